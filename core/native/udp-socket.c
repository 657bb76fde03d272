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
 *       kind 4: reading a chain block back into its slot failed, value = errno (udp-arm.c; EIO: the file
 *               shrank): from then on send() of a slot answers -errno (other buffers, an ERROR, still go)
 *     cb(kind, value, steps): steps = chain steps taken since the last report (see armChain), reset to 0
 *   send(handle, buf, len) -> bytes sent, or -errno (-EAGAIN: the send buffer is full, nothing sent)
 *   armReply(handle, key, buf, len) / disarm(handle)
 *       When the next datagram starts with key[0..4) (for TFTP: the ACK JavaScript expects), send
 *       buf[0, len) before calling JavaScript: a lock-step transfer's round trip then never waits for
 *       the JS callback (the replies of one event-loop turn go out together at its end, udp-batch.c).
 *       JavaScript decided what to send and when; this only executes it. One-shot;
 *       the caller keeps buf alive and unchanged until the reply fired, was disarmed or the socket closed
 *       (no per-packet reference here: the wrapper holds it in a field).
 *   armChain(handle, key, buf, len, fd, slot0, slot1, block, blksize, size)
 *       armReply that goes on by itself, block after block from the page cache: see udp-arm.c.
 *   chainSteps(handle) -> steps taken since the last report (reset to 0)
 *   batchMode() -> how armed replies go out: "io_uring" / "sendmsg" together at the end of the event-loop
 *       turn, or "off": each at once (udp-batch.c)
 *   batchCounts() -> [replies sent by io_uring, by sendmsg] from the batch so far (this thread)
 *   wantWritable(handle, bool)
 *   localPort(handle) -> number
 *   close(handle)                   idempotent; after it, send() answers -EBADF and no callback runs
 *
 * Lifetime (poll-socket.c, shared with the other sockets): like a node:dgram socket, an open socket lives
 * (and keeps the event loop alive) until close(); a late send() on a closed socket never touches freed memory.
 */
#include "udp-socket.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Calls cb(kind, value, steps), reporting (and resetting) the chain steps taken since the last call. The
 * slots are settled first (udp-arm.c); a failed settle is reported (once) in place of the callback. */
static void call_js(udp_sock *s, int kind, int32_t value) {
  napi_env env = s->base.env;
  int err = udp_settle(s);
  if (err != 0 && !s->settle_reported) {
    s->settle_reported = 1;
    kind = 4;
    value = err;
  }
  napi_value argv[3];
  napi_create_int32(env, kind, &argv[0]);
  napi_create_int32(env, value, &argv[1]);
  napi_create_int32(env, s->steps, &argv[2]);
  s->steps = 0;
  poll_sock_call(&s->base, 3, argv);
}

/* udp_fire_armed's result for a datagram of len bytes: 2 needs no call (the chain answered it). */
void udp_report_reply(udp_sock *s, int result, int32_t len) {
  if (result != 2) call_js(s, result ? 3 : 0, len);
}

static void on_readable(poll_sock *b) {
  udp_sock *s = (udp_sock *)b;
  /* libuv polls again within one turn after a full batch of events: what this socket deferred goes (and
   * JavaScript hears of it) before its next datagram overwrites recvbuf. */
  if (s->pend != 0) udp_batch_flush();
  /* One datagram per wake-up: a transfer socket holds at most one ACK in the steady state, and the poll is
   * level-triggered, so a second datagram wakes us again (no recv() answering EAGAIN). */
  ssize_t n;
  do n = recv(b->fd, s->recvbuf, s->recvlen, MSG_TRUNC);
  while (n < 0 && errno == EINTR);
  if (n >= 0) {
    if (n > INT32_MAX) n = INT32_MAX;
    if (udp_armed_for(s, n) && udp_batch_defer(s, (int32_t)n)) return;
    udp_report_reply(s, udp_fire_armed(s, n), (int32_t)n);
  } else if (errno != EAGAIN && errno != EWOULDBLOCK) {
    call_js(s, 1, errno);
  }
}

static void on_failed(poll_sock *b, int err) { call_js((udp_sock *)b, 1, err); }
static void on_writable(poll_sock *b) { call_js((udp_sock *)b, 2, 0); }
static void on_closing(poll_sock *b) {
  udp_batch_complete((udp_sock *)b); /* the ACK came before the close: its reply still goes */
  udp_chain_free((udp_sock *)b);
}

static const poll_sock_ops udp_ops = {
    .resource = "pxekit:udp",
    .readable = on_readable,
    .failed = on_failed,
    .writable = on_writable,
    .closing = on_closing,
};

udp_sock *udp_sock_call(napi_env env, napi_callback_info info, size_t n, napi_value *argv) {
  return (udp_sock *)poll_sock_arg(env, info, n, argv, &udp_ops);
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
  socklen_t llen = sockaddr_parse(local, 0, &la), plen = sockaddr_parse(peer, port, &pa);
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
  s->recvbuf = buf;
  s->recvlen = buflen;
  int err = 0;
  napi_value h = poll_sock_open(env, &s->base, fd, &udp_ops, argv[4], argv[3], NULL, &err);
  return h != NULL ? h : throw_errno(env, "uv_poll", -err);
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
  if (s->base.closed) {
    r = -EBADF;
  } else if (udp_settle(s) != 0 && udp_is_slot(s, data)) {
    r = -s->settle_err; /* after a failed settle a slot may hold stale bytes (an ERROR packet still goes) */
  } else {
    do r = send(s->base.fd, data, (size_t)n, 0);
    while (r < 0 && errno == EINTR);
    if (r < 0) r = errno == EWOULDBLOCK ? -EAGAIN : -errno;
  }
  napi_create_int32(env, (int32_t)r, &out);
  return out;
}

/* Called by addon.c's module init. */
void udp_socket_register(napi_env env, napi_value exports) {
  napi_property_descriptor d[] = {
      {"open", NULL, js_open, NULL, NULL, NULL, napi_default, NULL},
      {"send", NULL, js_send, NULL, NULL, NULL, napi_default, NULL},
      POLL_SOCK_METHOD("wantWritable", poll_sock_js_want_writable, &udp_ops),
      {"armReply", NULL, udp_js_arm_reply, NULL, NULL, NULL, napi_default, NULL},
      {"armChain", NULL, udp_js_arm_chain, NULL, NULL, NULL, napi_default, NULL},
      {"chainSteps", NULL, udp_js_chain_steps, NULL, NULL, NULL, napi_default, NULL},
      {"disarm", NULL, udp_js_disarm, NULL, NULL, NULL, napi_default, NULL},
      {"batchMode", NULL, udp_js_batch_mode, NULL, NULL, NULL, napi_default, NULL},
      {"batchCounts", NULL, udp_js_batch_counts, NULL, NULL, NULL, napi_default, NULL},
      POLL_SOCK_METHOD("localPort", poll_sock_js_local_port, &udp_ops),
      POLL_SOCK_METHOD("close", poll_sock_js_close, &udp_ops),
  };
  napi_define_properties(env, exports, sizeof d / sizeof d[0], d);
}
