/**
 * Thrown by a callback (readRequest, negotiate, resolve) or a session link to refuse a request with a
 * specific TFTP error, after it has logged the cause itself: the client gets ERROR `code` with `message`
 * (keep it generic: it goes on the wire), the request ends as a `tftp.error` event. Any other exception
 * from a callback becomes ERROR 0 "internal server error".
 */
export class TftpRefusal extends Error {
  constructor(
    readonly code: number,
    message: string,
    /** Short machine-friendly cause for events and logs (never sent to the client). */
    readonly reason: string = message,
  ) {
    super(message);
    this.name = 'TftpRefusal';
  }
}
