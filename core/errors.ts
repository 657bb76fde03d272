/**
 * One table of every error code pxekit raises. Each entry says what went wrong and how to fix it;
 * `docs/errors.md` documents every code (a test checks that none is missing).
 */
export const ERROR_CODES = {
  PXE_ERR_CONFIG_NOT_FOUND: 'No config file was found, or the path given with --config does not exist.',
  PXE_ERR_CONFIG_PARSE: 'The config file could not be read or parsed (syntax error, or a JS/TS config that throws).',
  PXE_ERR_CONFIG_INVALID: 'The config, or a plugin option, does not match its schema. Every problem is listed.',
  PXE_ERR_PLUGIN_NOT_FOUND: 'A plugin named in the config is neither built in, an installed package, nor a file.',
  PXE_ERR_PLUGIN_INVALID:
    'A plugin module does not export a plugin (a definePlugin() result or a factory returning one).',
  PXE_ERR_PLUGIN_DUPLICATE: 'Two plugins have the same name.',
  PXE_ERR_PLUGIN_DEPENDENCY: 'A plugin depends on another plugin that is not in the config (or comes after it).',
  PXE_ERR_PLUGIN_PROVIDES:
    'Two plugins provide the same thing (e.g. two lease stores), or a plugin provides what it did not declare.',
  PXE_ERR_PLUGIN_APPLY: 'A plugin threw while applying (tapping hooks).',
  PXE_ERR_HOOK_FAILED: 'A plugin threw (or rejected) inside a hook.',
  PXE_ERR_HOOK_TIMEOUT: 'An async hook tap did not settle within its timeout.',
  PXE_ERR_HOOK_SEALED: 'A plugin tried to tap a hook after the server started.',
  PXE_ERR_SERVER_STATE: 'start() or close() was called in the wrong state (e.g. start twice).',
  PXE_ERR_RELOAD_REFUSED:
    'A config reload changes what a reload keeps (a listener, the lease store); the running config stays.',
  PXE_ERR_LISTEN_PERMISSION: 'Binding a privileged port (< 1024) was refused.',
  PXE_ERR_LISTEN_IN_USE: 'A port is already in use by another process.',
  PXE_ERR_LISTEN_FAILED: 'A listener could not be started for another reason.',
  PXE_ERR_DHCP_DECODE: 'A DHCP packet could not be decoded; it was dropped.',
  PXE_ERR_DHCP_POOL_EXHAUSTED: 'A DHCP pool has no free address left for a new client.',
  PXE_ERR_DHCP_NO_POOL: 'No DHCP pool matches the subnet a request came from.',
  PXE_ERR_LEASE_STORE: 'The lease store failed to read or write.',
  PXE_ERR_TFTP_DECODE: 'A TFTP packet could not be decoded.',
  PXE_ERR_TFTP_TRANSFER: 'A TFTP transfer failed (client gone, retries exhausted, source error).',
  PXE_ERR_HTTP_REQUEST: 'An HTTP request failed while it was being served.',
  PXE_ERR_FILE_SOURCE: 'A file source failed (disk, S3 or git unreachable or erroring).',
  PXE_ERR_FILE_PATH: 'A requested path is unsafe (traversal, NUL, absolute escape) and was refused.',
  PXE_ERR_TEMPLATE: 'A template failed to compile or render.',
  PXE_ERR_AUDIT_WRITE: 'The audit log could not be written (disk full, permissions); booting goes on.',
  PXE_ERR_REDIS: 'The shared Redis store is unreachable or failed.',
  PXE_ERR_CLUSTER_HANDOVER:
    "The cluster's split of the clients changed while this instance was answering: the answer was dropped, the new owner answers.",
  PXE_ERR_INTENT_STORE: 'The boot-intents file could not be read, parsed or written.',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** Every error pxekit raises carries a stable `code` and, where one helps, a `fix` for the operator. */
export class PxeError extends Error {
  readonly code: ErrorCode;
  readonly fix: string | undefined;
  readonly details: Record<string, unknown>;
  constructor(
    code: ErrorCode,
    message: string,
    opts: { fix?: string; cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'PxeError';
    this.code = code;
    this.fix = opts.fix;
    this.details = opts.details ?? {};
  }
}

/**
 * A dependency that is expected to be away at times (the shared Redis of a scale-out cluster) cannot
 * serve this request now. Not a fault: the pipelines drop the request with a debug line and count it,
 * without an error log or a stack trace; whoever owns the dependency reports the outage once.
 */
export class UnavailableError extends PxeError {
  constructor(
    code: ErrorCode,
    message: string,
    opts: { fix?: string; cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(code, message, opts);
    this.name = 'UnavailableError';
  }
}

/** The UnavailableError behind `err` (itself, or the cause of a hook failure), if any. */
export function unavailableCause(err: unknown): UnavailableError | undefined {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++)
    if (e instanceof UnavailableError) return e;
  return undefined;
}

/** An error thrown by a plugin inside a hook, tagged with the plugin and the hook. */
export class HookError extends PxeError {
  readonly plugin: string;
  readonly hook: string;
  constructor(
    code: 'PXE_ERR_HOOK_FAILED' | 'PXE_ERR_HOOK_TIMEOUT',
    plugin: string,
    hook: string,
    message: string,
    cause?: unknown,
  ) {
    super(code, `plugin "${plugin}" failed in hook ${hook}: ${message}`, { cause, details: { plugin, hook } });
    this.name = 'HookError';
    this.plugin = plugin;
    this.hook = hook;
  }
}

/** Turns a socket bind error into an operator-facing PxeError naming the port and the fix. */
export function listenError(err: NodeJS.ErrnoException, what: string, port: number, address?: string): PxeError {
  const host = address ?? '0.0.0.0';
  const where = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  if (err.code === 'EACCES' || err.code === 'EPERM') {
    return new PxeError('PXE_ERR_LISTEN_PERMISSION', `${what} cannot bind ${where}: permission denied`, {
      cause: err,
      fix:
        `port ${port} is privileged: run as root, grant the capability (setcap cap_net_bind_service=+ep ` +
        `"$(readlink -f "$(which node)")", or AmbientCapabilities=CAP_NET_BIND_SERVICE in a systemd unit), or ` +
        `set another port in the config`,
      details: { port, address },
    });
  }
  if (err.code === 'EADDRINUSE') {
    return new PxeError('PXE_ERR_LISTEN_IN_USE', `${what} cannot bind ${where}: address already in use`, {
      cause: err,
      fix:
        `another process holds port ${port} (find it with: ss -lunp 'sport = :${port}' or ss -ltnp 'sport = ` +
        `:${port}'); stop it (often dnsmasq, tftpd-hpa or a web server) or choose another port`,
      details: { port, address },
    });
  }
  const missing = err.code === 'EADDRNOTAVAIL' || (err.code === 'EINVAL' && host.startsWith('fe80:'));
  return new PxeError('PXE_ERR_LISTEN_FAILED', `${what} cannot bind ${where}: ${err.message}`, {
    cause: err,
    ...(missing
      ? { fix: 'no interface has this address: check `ip addr`; a link-local address needs its zone (fe80::1%eth0)' }
      : {}),
    details: { port, address },
  });
}

/** `{ plugin, hook, code }` of a HookError (only `code` of another PxeError), for log lines. */
export function hookTags(err: unknown): { plugin?: string; hook?: string; code?: string } {
  if (err instanceof HookError) return { plugin: err.plugin, hook: err.hook, code: err.code };
  if (err instanceof PxeError) return { code: err.code };
  return {};
}
