/*
 * A connected UDP socket for TFTP transfers, driven by a uv_poll on node's own event loop.
 *
 * Why: a lock-step TFTP transfer is one round trip per block, so its speed is the per-packet cost of
 * the server. node:dgram spends several microseconds per packet on things a transfer socket does not
 * need (a new Buffer and an rinfo object per datagram, an EventEmitter dispatch, the argument
 * normalisation and SendWrap object of every send). Here a datagram is received into ONE buffer that
 * JavaScript owns and reuses, the callback gets only its length, and send() is a plain send(2).
 * The protocol stays in TypeScript (core/tftp/transfer.ts); this file only moves bytes.
 *
 * API (see udp-socket.ts for the typed wrapper):
 *   open(localAddr, peerAddr, peerPort, recvBuf, cb) -> handle     cb(kind, value):
 *       kind 0: a datagram of `value` bytes is in recvBuf (value may exceed recvBuf.length: truncated)
 *       kind 1: socket error, value = errno (e.g. ECONNREFUSED after an ICMP port unreachable)
 *       kind 2: the socket is writable again (after send() answered -EAGAIN and wantWritable(h, true))
 *       kind 3: like 0, and the armed reply was sent for it (see armReply)
 *     cb(kind, value, steps): steps = chain steps taken since the last report (see armChain), reset to 0
 *   send(handle, buf, len) -> bytes sent, or -errno (-EAGAIN: the send buffer is full, nothing sent)
 *   armReply(handle, key, buf, len) / disarm(handle)
 *       When the next datagram starts with key[0..4) (for TFTP: the ACK JavaScript expects), send
 *       buf[0, len) before calling JavaScript: a lock-step transfer's round trip then never waits for
 *       the JS callback. JavaScript decided what to send and when; this only executes it. One-shot;
 *       the caller keeps buf alive and unchanged until the reply fired, was disarmed or the socket closed
 *       (no per-packet reference here: the wrapper holds it in a field).
 *   armChain(handle, key, buf, len, fd, slot0, slot1, block, blksize, size)
 *       armReply that goes on by itself, block after block from the page cache: see udp-arm.c.
 *   chainSteps(handle) -> steps taken since the last report (reset to 0)
 *   wantWritable(handle, bool)
 *   localPort(handle) -> number
 *   close(handle)                   idempotent; after it, send() answers -EBADF and no callback runs
 *
 * Lifetime: like a node:dgram socket, an open socket lives (and keeps the event loop alive) until
 * close(): its poll holds the callback, which holds the JS handle. The state is freed only when both
 * the uv handle has closed and the JS handle has been garbage-collected, so a late send() on a closed
 * socket never touches freed memory.
 */
#include "udp-socket.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>





static void unref_sock(udp_sock *s) {
  if (--s->refs == 0) free(s);
}

static void on_uv_closed(uv_handle_t *h) { unref_sock((udp_sock *)h->data); }

static void close_sock(udp_sock *s) {
  if (s->closed) return;
  s->closed = 1;
  uv_poll_stop(&s->poll);
  close(s->fd);
  s->fd = -1;
  udp_disarm(s);
  napi_delete_reference(s->env, s->cb);
  napi_delete_reference(s->env, s->recvbuf_ref);
  napi_async_destroy(s->env, s->actx);
  uv_close((uv_handle_t *)&s->poll, on_uv_closed);
}

static void finalize_handle(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  udp_sock *s = data;
  close_sock(s); /* a socket nobody can reach any more: close it rather than leak the fd */
  unref_sock(s);
}

/* Calls cb(kind, value); an exception thrown by it goes to process 'uncaughtException' like any callback's. */
static int call_js(udp_sock *s, int kind, int32_t value) {
  napi_env env = s->env;
  napi_value cb, recv, argv[3], res;
  if (napi_get_reference_value(env, s->cb, &cb) != napi_ok || cb == NULL) return -1;
  napi_get_global(env, &recv); /* MakeCallback needs an object as receiver */
  napi_create_int32(env, kind, &argv[0]);
  napi_create_int32(env, value, &argv[1]);
  napi_create_int32(env, s->steps, &argv[2]);
  s->steps = 0;
  napi_status st = napi_make_callback(env, s->actx, recv, cb, 3, argv, &res);
  if (st == napi_pending_exception) {
    napi_value err;
    napi_get_and_clear_last_exception(env, &err);
    napi_fatal_exception(env, err);
    return -1;
  }
  return st == napi_ok ? 0 : -1;
}

static void on_poll(uv_poll_t *p, int status, int events) {
  udp_sock *s = p->data;
  if (s->closed) return;
  napi_handle_scope scope;
  napi_open_handle_scope(s->env, &scope);
  s->refs++; /* the callback may close the socket: keep the state alive until we return */
  if (status == UV_EBADF) {
    /* libuv reports EPOLLERR as EBADF and stops the poll. On a UDP socket that is a pending ICMP error
     * (port unreachable → ECONNREFUSED): read it (which clears it), report it, and keep polling. */
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
    else if (err != 0 && !s->closed) uv_poll_start(&s->poll, s->want_writable ? UV_READABLE | UV_WRITABLE : UV_READABLE, on_poll);
    call_js(s, 1, err != 0 ? err : EBADF);
  } else if (status < 0) {
    call_js(s, 1, -status);
  } else {
    if (events & UV_READABLE) {
      /* One datagram per wake-up: a transfer socket holds at most one ACK in the steady state, and the
       * poll is level-triggered, so a second datagram wakes us again (no recv() answering EAGAIN). */
      ssize_t n;
      do n = recv(s->fd, s->recvbuf, s->recvlen, MSG_TRUNC);
      while (n < 0 && errno == EINTR);
      if (n >= 0) {
        if (n > INT32_MAX) n = INT32_MAX;
        int replied = udp_fire_armed(s, n);
        if (replied != 2) call_js(s, replied ? 3 : 0, (int32_t)n);
      } else if (errno != EAGAIN && errno != EWOULDBLOCK) {
        call_js(s, 1, errno);
      }
    }
    if ((events & UV_WRITABLE) && !s->closed) {
      s->want_writable = 0;
      uv_poll_start(&s->poll, UV_READABLE, on_poll);
      call_js(s, 2, 0);
    }
  }
  napi_close_handle_scope(s->env, scope);
  unref_sock(s);
}

/* "1.2.3.4" or "fe80::1%eth0" -> sockaddr; returns its length, 0 if not an address. */
static socklen_t parse_addr(const char *text, int port, struct sockaddr_storage *out) {
  memset(out, 0, sizeof *out);
  struct sockaddr_in *a4 = (struct sockaddr_in *)out;
  if (inet_pton(AF_INET, text, &a4->sin_addr) == 1) {
    a4->sin_family = AF_INET;
    a4->sin_port = htons((uint16_t)port);
    return sizeof *a4;
  }
  struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)out;
  char host[INET6_ADDRSTRLEN + IF_NAMESIZE + 2];
  strncpy(host, text, sizeof host - 1);
  host[sizeof host - 1] = 0;
  char *pct = strchr(host, '%');
  if (pct != NULL) {
    *pct = 0;
    unsigned idx = if_nametoindex(pct + 1);
    a6->sin6_scope_id = idx != 0 ? idx : (unsigned)strtoul(pct + 1, NULL, 10);
  }
  if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
    a6->sin6_family = AF_INET6;
    a6->sin6_port = htons((uint16_t)port);
    return sizeof *a6;
  }
  return 0;
}

static napi_value throw_errno(napi_env env, const char *what, int err) {
  char msg[160];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
  napi_value code, text, e;
  napi_create_string_utf8(env, err == EADDRNOTAVAIL ? "EADDRNOTAVAIL" : err == EACCES ? "EACCES" : "ESOCKET",
                          NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &text);
  napi_create_error(env, code, text, &e);
  napi_throw(env, e);
  return NULL;
}

static int get_sock(napi_env env, napi_value v, udp_sock **out) {
  void *p = NULL;
  if (napi_get_value_external(env, v, &p) != napi_ok || p == NULL) {
    napi_throw_type_error(env, NULL, "not a pxekit transfer socket handle");
    return -1;
  }
  *out = p;
  return 0;
}

udp_sock *udp_sock_call(napi_env env, napi_callback_info info, size_t n, napi_value *argv) {
  size_t argc = n;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  udp_sock *s;
  if (argc < n) {
    napi_throw_type_error(env, NULL, "missing arguments");
    return NULL;
  }
  return get_sock(env, argv[0], &s) == 0 ? s : NULL;
}

static napi_value js_open(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 5) {
    napi_throw_type_error(env, NULL, "open(localAddr, peerAddr, peerPort, recvBuf, cb)");
    return NULL;
  }
  char local[96], peer[96];
  size_t len;
  int32_t port;
  void *buf;
  size_t buflen;
  napi_valuetype t;
  if (napi_get_value_string_utf8(env, argv[0], local, sizeof local, &len) != napi_ok ||
      napi_get_value_string_utf8(env, argv[1], peer, sizeof peer, &len) != napi_ok ||
      napi_get_value_int32(env, argv[2], &port) != napi_ok || port <= 0 || port > 65535 ||
      napi_get_buffer_info(env, argv[3], &buf, &buflen) != napi_ok || buflen == 0 ||
      napi_typeof(env, argv[4], &t) != napi_ok || t != napi_function) {
    napi_throw_type_error(env, NULL, "open(localAddr: string, peerAddr: string, peerPort: 1..65535, recvBuf: Buffer, cb: Function)");
    return NULL;
  }
  struct sockaddr_storage la, pa;
  socklen_t llen = parse_addr(local, 0, &la), plen = parse_addr(peer, port, &pa);
  if (llen == 0 || plen == 0 || la.ss_family != pa.ss_family) {
    napi_throw_type_error(env, NULL, "open: local and peer must be IP addresses of one family");
    return NULL;
  }
  int fd = socket(la.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, "socket", errno);
  if (bind(fd, (struct sockaddr *)&la, llen) < 0) {
    int e = errno;
    close(fd);
    return throw_errno(env, "bind", e);
  }
  if (connect(fd, (struct sockaddr *)&pa, plen) < 0) {
    int e = errno;
    close(fd);
    return throw_errno(env, "connect", e);
  }
  udp_sock *s = calloc(1, sizeof *s);
  if (s == NULL) {
    close(fd);
    return throw_errno(env, "calloc", ENOMEM);
  }
  s->fd = fd;
  s->env = env;
  s->refs = 2;
  s->recvbuf = buf;
  s->recvlen = buflen;
  napi_create_reference(env, argv[3], 1, &s->recvbuf_ref);
  napi_create_reference(env, argv[4], 1, &s->cb);
  napi_value name;
  napi_create_string_utf8(env, "pxekit:udp", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, NULL, name, &s->actx);
  uv_loop_t *loop;
  napi_get_uv_event_loop(env, &loop);
  int r = uv_poll_init(loop, &s->poll, fd);
  if (r != 0) { /* no uv handle to close: undo by hand */
    close(fd);
    napi_delete_reference(env, s->cb);
    napi_delete_reference(env, s->recvbuf_ref);
    napi_async_destroy(env, s->actx);
    free(s);
    return throw_errno(env, "uv_poll_init", -r);
  }
  s->poll.data = s;
  r = uv_poll_start(&s->poll, UV_READABLE, on_poll);
  if (r != 0) {
    close_sock(s); /* closes the uv handle: its callback drops one ref, this drops the JS one */
    unref_sock(s);
    return throw_errno(env, "uv_poll_start", -r);
  }
  napi_value ext;
  if (napi_create_external(env, s, finalize_handle, NULL, &ext) != napi_ok) {
    close_sock(s);
    unref_sock(s);
    return NULL;
  }
  return ext;
}

static napi_value js_send(napi_env env, napi_callback_info info) {
  napi_value argv[3], out;
  udp_sock *s = udp_sock_call(env, info, 3, argv);
  if (s == NULL) return NULL;
  void *data;
  size_t buflen;
  int32_t n;
  if (napi_get_buffer_info(env, argv[1], &data, &buflen) != napi_ok || napi_get_value_int32(env, argv[2], &n) != napi_ok ||
      n < 0 || (size_t)n > buflen) {
    napi_throw_range_error(env, NULL, "send(handle, buf, len): len must be within buf");
    return NULL;
  }
  ssize_t r;
  if (s->closed) {
    r = -EBADF;
  } else {
    do r = send(s->fd, data, (size_t)n, 0);
    while (r < 0 && errno == EINTR);
    if (r < 0) r = errno == EWOULDBLOCK ? -EAGAIN : -errno;
  }
  napi_create_int32(env, (int32_t)r, &out);
  return out;
}

static napi_value js_want_writable(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  udp_sock *s = udp_sock_call(env, info, 2, argv);
  if (s == NULL) return NULL;
  bool want = false;
  napi_get_value_bool(env, argv[1], &want);
  if (!s->closed && (int)want != s->want_writable) {
    s->want_writable = want;
    uv_poll_start(&s->poll, want ? UV_READABLE | UV_WRITABLE : UV_READABLE, on_poll);
  }
  return NULL;
}

static napi_value js_local_port(napi_env env, napi_callback_info info) {
  napi_value argv[1], out;
  udp_sock *s = udp_sock_call(env, info, 1, argv);
  if (s == NULL) return NULL;
  struct sockaddr_storage a;
  socklen_t len = sizeof a;
  int port = -1;
  if (!s->closed && getsockname(s->fd, (struct sockaddr *)&a, &len) == 0)
    port = ntohs(a.ss_family == AF_INET ? ((struct sockaddr_in *)&a)->sin_port : ((struct sockaddr_in6 *)&a)->sin6_port);
  napi_create_int32(env, port, &out);
  return out;
}

static napi_value js_close(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  udp_sock *s = udp_sock_call(env, info, 1, argv);
  if (s == NULL) return NULL;
  close_sock(s);
  return NULL;
}

/* Called by addon.c's module init. */
void udp_socket_register(napi_env env, napi_value exports) {
  napi_property_descriptor d[] = {
      {"open", NULL, js_open, NULL, NULL, NULL, napi_default, NULL},
      {"send", NULL, js_send, NULL, NULL, NULL, napi_default, NULL},
      {"wantWritable", NULL, js_want_writable, NULL, NULL, NULL, napi_default, NULL},
      {"armReply", NULL, udp_js_arm_reply, NULL, NULL, NULL, napi_default, NULL},
      {"armChain", NULL, udp_js_arm_chain, NULL, NULL, NULL, napi_default, NULL},
      {"chainSteps", NULL, udp_js_chain_steps, NULL, NULL, NULL, napi_default, NULL},
      {"disarm", NULL, udp_js_disarm, NULL, NULL, NULL, napi_default, NULL},
      {"localPort", NULL, js_local_port, NULL, NULL, NULL, napi_default, NULL},
      {"close", NULL, js_close, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof d / sizeof d[0], d);
}
