/*
 * sendFile(socketFd, fileFd, position, length, cb) -> job      cb(errno, bytesSent), once
 * cancelSendFile(job)                                         stops it: cb(ECANCELED, sent) follows
 * sendFileProgress(job) -> bytes sent so far                  (both only before cb ran)
 * corkSocket(socketFd, on)                                    TCP_CORK on or off; the job clears it
 * sendFile(socketFd, fileFd, position, length, cb, head)     head (a Buffer, copied) goes out first
 *
 * The optional `head` is the response head the caller has not written (the lean HTTP path's): sent with
 * MSG_MORE before the body, so it leaves in the body's first segment without a write through node's stream
 * (one packet and one JavaScript write less per response). `sendFileHead` (true) says this build takes it.
 *
 * An HTTP body from a file with sendfile(2): the kernel moves page-cache pages to the socket, with no
 * read into a user buffer and no write from it (what nginx does with `sendfile on`). Node has no
 * sendfile, and reading 1 MiB chunks through the thread pool and writing them back out costs about a
 * quarter of the throughput on big files (docs/benchmarks.md#http).
 *
 * The socket stays node's: this works on a dup() of its descriptor, which send-worker.c's thread waits on
 * and sends to (node's TCP handle keeps the original). The caller hands the socket over only once node has
 * flushed everything it had queued (headers), and writes nothing to it until cb ran. Non-blocking:
 * sendfile until EAGAIN, then wait for writability, repeat; the event loop never runs a sendfile call.
 * cancel (the response was destroyed) stops the job within the thread's current call and closes the dup,
 * so the connection goes away as soon as node has closed its descriptor too; cb(ECANCELED) follows.
 *
 * Corked when the caller asks (it does unless PXEKIT_SENDFILE_CORK=0; send-file.ts gives the measurements).
 * As nginx's `tcp_nopush`: node's sockets have TCP_NODELAY on, so without a cork every sendfile call that
 * ends inside a segment, or finds little room in the send buffer, pushes a short segment out
 * (17 % more packets per GiB than nginx on the bench's veth link, each one costing both ends). The
 * caller corks before node writes the headers, so they leave with the first body bytes; the job takes
 * the cork off when it finishes, whatever the outcome, so the last partial segment goes out at once
 * instead of after the kernel's 200 ms cork timer (the response ends with no further write to push it).
 */
#define _GNU_SOURCE
#include "send-file.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

/*
 * At most 2 MiB per turn (as nginx's sendfile_max_chunk), then the worker goes on with the next writable
 * download: on a veth or loopback link the kernel delivers to the receiver inside our sendfile call, so a
 * fast reader would otherwise have one download hold the thread for tens of milliseconds while the others
 * wait.
 */
#define MAX_PER_CALL (1 << 20)
/* Calls per turn before the next download's. */
#define MAX_CALLS_PER_WAKE 2

static int set_cork(int fd, int on) { return setsockopt(fd, IPPROTO_TCP, TCP_CORK, &on, sizeof on) == 0 ? 0 : errno; }

void send_job_release(send_job *j) {
  /* Pushes the last partial segment now (on our dup: still this connection even if node closed its fd). */
  set_cork(j->sock, 0);
  close(j->sock);
  j->sock = -1;
  free(j->head);
  j->head = NULL;
}

void send_job_report(send_job *j) {
  napi_env env = j->env;
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  napi_value cb, recv, argv[2], res;
  if (napi_get_reference_value(env, j->cb, &cb) == napi_ok && cb != NULL) {
    napi_get_global(env, &recv);
    napi_create_int32(env, j->err, &argv[0]);
    napi_create_double(env, (double)__atomic_load_n(&j->sent, __ATOMIC_RELAXED), &argv[1]);
    if (napi_make_callback(env, j->actx, recv, cb, 2, argv, &res) == napi_pending_exception) {
      napi_value e;
      napi_get_and_clear_last_exception(env, &e);
      napi_fatal_exception(env, e);
    }
  }
  napi_close_handle_scope(env, scope);
  send_job_discard(j);
}

void send_job_discard(send_job *j) {
  napi_delete_reference(j->env, j->cb);
  napi_async_destroy(j->env, j->actx);
  free(j);
}

int send_job_pump(send_job *j) {
  while (j->head_off < j->head_len) {
    ssize_t n = send(j->sock, j->head + j->head_off, j->head_len - j->head_off,
                     MSG_NOSIGNAL | (j->left > 0 ? MSG_MORE : 0));
    if (n >= 0) {
      j->head_off += (size_t)n;
    } else if (errno != EINTR) {
      return errno == EWOULDBLOCK ? EAGAIN : errno;
    }
  }
  for (int calls = 0; j->left > 0; calls++) {
    if (calls == MAX_CALLS_PER_WAKE) return EAGAIN; /* level-triggered: reported again while writable */
    off_t off = (off_t)j->pos;
    size_t want = j->left > MAX_PER_CALL ? MAX_PER_CALL : (size_t)j->left;
    ssize_t n = sendfile(j->sock, j->file, &off, want);
    if (n > 0) {
      j->pos += n;
      j->left -= n;
      __atomic_add_fetch(&j->sent, n, __ATOMIC_RELAXED);
    } else if (n == 0) {
      return ENODATA; /* the file is shorter than announced */
    } else if (errno == EINTR) {
      continue;
    } else {
      return errno == EWOULDBLOCK ? EAGAIN : errno;
    }
  }
  return 0;
}

/* Why send_worker_for failed (its errno), worded once for both calls that start the thread. */
static void start_failure(char *buf, size_t len) {
  snprintf(buf, len, "cannot start the sendfile thread (%s)", strerror(errno));
}

static napi_value js_send_file(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t sockfd, filefd;
  void *head = NULL;
  size_t head_len = 0;
  bool is_buffer = false;
  if (argc >= 6 && (napi_is_buffer(env, argv[5], &is_buffer) != napi_ok || !is_buffer ||
                    napi_get_buffer_info(env, argv[5], &head, &head_len) != napi_ok)) {
    napi_throw_type_error(env, NULL, "sendFile: head must be a Buffer");
    return NULL;
  }
  int64_t pos, len;
  napi_valuetype t;
  if (argc < 5 || napi_get_value_int32(env, argv[0], &sockfd) != napi_ok ||
      napi_get_value_int32(env, argv[1], &filefd) != napi_ok || napi_get_value_int64(env, argv[2], &pos) != napi_ok ||
      napi_get_value_int64(env, argv[3], &len) != napi_ok || napi_typeof(env, argv[4], &t) != napi_ok ||
      t != napi_function || sockfd < 0 || filefd < 0 || pos < 0 || len < 0) {
    napi_throw_range_error(env, NULL, "sendFile(socketFd, fileFd, position, length, cb): bad arguments");
    return NULL;
  }
  send_worker *w = send_worker_for(env);
  if (w == NULL) {
    char why[120], msg[200];
    start_failure(why, sizeof why);
    snprintf(msg, sizeof msg, "sendFile: %s; set PXEKIT_SENDFILE=0 to send file bodies without it", why);
    napi_throw_error(env, NULL, msg);
    return NULL;
  }
  send_job *j = calloc(1, sizeof *j);
  if (!j) {
    napi_throw_error(env, NULL, "sendFile: out of memory");
    return NULL;
  }
  j->sock = dup(sockfd);
  if (j->sock < 0) {
    int e = errno;
    free(j);
    napi_throw_error(env, NULL, e == EMFILE ? "sendFile: dup: too many open files" : "sendFile: dup failed");
    return NULL;
  }
  if (head_len > 0) {
    j->head = malloc(head_len);
    if (!j->head) {
      close(j->sock);
      free(j);
      napi_throw_error(env, NULL, "sendFile: out of memory");
      return NULL;
    }
    memcpy(j->head, head, head_len);
    j->head_len = head_len;
  }
  j->file = filefd;
  j->pos = pos;
  j->left = len;
  j->env = env;
  napi_create_reference(env, argv[4], 1, &j->cb);
  napi_value name;
  napi_create_string_utf8(env, "pxekit:sendfile", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, NULL, name, &j->actx);
  /* The thread starts by waiting for writability (at once on an idle socket), and the callback always
   * runs from the event loop, never inside this call: JavaScript sees one asynchronous completion. */
  send_worker_submit(w, j);
  napi_value ext;
  napi_create_external(env, j, NULL, NULL, &ext);
  return ext;
}

static napi_value js_cancel(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  void *p = NULL;
  if (argc < 1 || napi_get_value_external(env, argv[0], &p) != napi_ok || p == NULL) {
    napi_throw_type_error(env, NULL, "cancelSendFile(job): not a job");
    return NULL;
  }
  /* The job is freed once its callback ran: the JS wrapper calls cancel only before that (send-file.ts),
   * so `p` is still alive here. */
  send_job *j = p;
  send_worker_cancel(j->worker, j);
  return NULL;
}

/* sentSoFar(job) -> bytes sent until now (before cb ran), for the caller's stall detection. */
static napi_value js_sent(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], out;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  void *p = NULL;
  if (argc < 1 || napi_get_value_external(env, argv[0], &p) != napi_ok || p == NULL) {
    napi_throw_type_error(env, NULL, "sendFileProgress(job): not a job");
    return NULL;
  }
  napi_create_double(env, (double)__atomic_load_n(&((send_job *)p)->sent, __ATOMIC_RELAXED), &out);
  return out;
}

/* corkSocket(socketFd, on) -> 0 or errno. The caller owns socketFd and calls this only while it is open. */
static napi_value js_cork(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], out;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t fd;
  bool on;
  if (argc < 2 || napi_get_value_int32(env, argv[0], &fd) != napi_ok ||
      napi_get_value_bool(env, argv[1], &on) != napi_ok || fd < 0) {
    napi_throw_range_error(env, NULL, "corkSocket(socketFd, on): bad arguments");
    return NULL;
  }
  napi_create_int32(env, set_cork(fd, on ? 1 : 0), &out);
  return out;
}

/* sendFileStart() -> undefined once this environment's sendfile thread runs (started now if need be), or why
 * it cannot: the caller then keeps file bodies on its buffered path instead of failing each download. */
static napi_value js_start(napi_env env, napi_callback_info info) {
  (void)info;
  if (send_worker_for(env) != NULL) return NULL;
  char msg[120];
  start_failure(msg, sizeof msg);
  napi_value out;
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &out);
  return out;
}

void send_file_register(napi_env env, napi_value exports) {
  napi_value yes;
  napi_get_boolean(env, true, &yes);
  napi_property_descriptor d[] = {
      {"sendFileHead", NULL, NULL, NULL, NULL, yes, napi_enumerable, NULL},
      {"corkSocket", NULL, js_cork, NULL, NULL, NULL, napi_default, NULL},
      {"sendFile", NULL, js_send_file, NULL, NULL, NULL, napi_default, NULL},
      {"cancelSendFile", NULL, js_cancel, NULL, NULL, NULL, napi_default, NULL},
      {"sendFileProgress", NULL, js_sent, NULL, NULL, NULL, napi_default, NULL},
      {"sendFileStart", NULL, js_start, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof d / sizeof d[0], d);
}
