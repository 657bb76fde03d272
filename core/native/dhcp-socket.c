/*
 * An unconnected UDP socket for the DHCP server, driven by a uv_poll on node's own event loop.
 *
 * Why: a DHCP exchange is two requests and two replies, and node:dgram spends microseconds on each in
 * JavaScript and C++ (a Buffer and an rinfo object per datagram, an EventEmitter dispatch, a SendWrap and
 * a libuv request per send). Under a boot storm that is a large part of the server's CPU per exchange.
 * Here one wake-up takes up to `slots` datagrams with recvmmsg(2) into one buffer JavaScript owns, with
 * their lengths and sources in an Int32Array, and calls JavaScript once for the batch; a reply is one
 * sendto(2). The protocol stays in TypeScript (core/dhcp); this file only moves bytes.
 *
 * A datagram that waited in the kernel's receive queue longer than `maxAgeMs` (its kernel receive time,
 * SO_TIMESTAMPNS) is dropped here unread: after a flood the queue (4 MiB, see bind_socket) holds about a
 * second of the server's work, and a real client's DISCOVER behind it would be answered only after its
 * 1 s retransmission. Skipping stale datagrams costs a recvmmsg slot each, so the backlog is gone in
 * milliseconds; a request that old has been (or is about to be) retransmitted by its client anyway.
 * (The timestamps are on the realtime clock: a clock stepped forward can make one queue's worth look
 * stale once — those clients ask again; stepped back, nothing looks stale.)
 *
 * API (see dhcp-socket.ts for the typed wrapper):
 *   dgramOpen(address, port, reuseAddr, slots: Buffer, meta: Int32Array, cb, maxAgeMs) -> handle, or -errno
 *       Binds a UDP/IPv4 socket (SO_BROADCAST on; SO_REUSEADDR when asked). `slots` holds
 *       meta.length / 3 datagrams of slots.length / (meta.length / 3) bytes each. maxAgeMs 0: no limit.
 *       cb(0, n): n datagrams arrived; datagram i is in slot i, meta[3i] = its length (-1: longer than a
 *                 slot, dropped; -2: older than maxAgeMs, dropped), meta[3i + 1] = source IPv4 address
 *                 (host order), meta[3i + 2] = port
 *       cb(1, errno): a socket error       cb(2, 0): writable again (after dgramWantWritable(h, true))
 *   dgramSend(handle, buf, len, addr (host order), port) -> bytes sent, or -errno (-EAGAIN: buffer full)
 *   dgramWantWritable(handle, bool)   dgramLocalPort(handle) -> port   dgramClose(handle) (idempotent)
 *
 * Lifetime: poll-socket.c, shared with the other sockets (a late call on a closed socket never touches freed
 * memory).
 */
#define _GNU_SOURCE /* recvmmsg */
#include "poll-socket.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_BATCH 64

typedef struct {
  poll_sock base; /* first: the shared lifecycle (poll-socket.h); keeps slots and meta referenced */
  char *slots;
  size_t slot_len;
  int32_t *meta;
  unsigned batch;
  int64_t max_age_ns; /* 0: no limit */
  int overloaded;     /* a stale datagram was seen and the queue has not been empty since */
} dhcp_sock;

/*
 * Once one datagram was stale, the limit drops to a quarter until the queue is empty again (CoDel's idea:
 * a standing queue is drained down to fresh requests, not to the limit). With the limit alone, the request
 * of a client that arrives right after a flood sits behind up to maxAgeMs of junk that is not stale yet,
 * and itself reaches the head at about that age: answered or dropped by a hair (the bench saw both).
 */
#define OVERLOAD_DIVISOR 4

/* Room for one SCM_TIMESTAMPNS per message (and whatever else the kernel adds). */
#define CONTROL_LEN 64

static void call_js(poll_sock *s, int kind, int32_t value) {
  napi_value argv[2];
  napi_create_int32(s->env, kind, &argv[0]);
  napi_create_int32(s->env, value, &argv[1]);
  poll_sock_call(s, 2, argv);
}

/* When the kernel received a datagram (SO_TIMESTAMPNS, realtime ns); `now` when it gave no timestamp. */
static int64_t received_at(struct msghdr *h, int64_t now) {
  for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c != NULL; c = CMSG_NXTHDR(h, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
      struct timespec ts;
      memcpy(&ts, CMSG_DATA(c), sizeof ts);
      return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
    }
  }
  return now;
}

/* Up to `batch` datagrams in one recvmmsg; their count, 0 when none waited, -errno on an error. */
static int receive_batch(dhcp_sock *s) {
  struct mmsghdr msgs[MAX_BATCH];
  struct iovec iov[MAX_BATCH];
  struct sockaddr_in from[MAX_BATCH];
  union {
    char buf[CONTROL_LEN];
    struct cmsghdr align;
  } control[MAX_BATCH];
  memset(msgs, 0, sizeof(struct mmsghdr) * s->batch);
  for (unsigned i = 0; i < s->batch; i++) {
    iov[i].iov_base = s->slots + (size_t)i * s->slot_len;
    iov[i].iov_len = s->slot_len;
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
    msgs[i].msg_hdr.msg_name = &from[i];
    msgs[i].msg_hdr.msg_namelen = sizeof from[i];
    if (s->max_age_ns > 0) {
      msgs[i].msg_hdr.msg_control = control[i].buf;
      msgs[i].msg_hdr.msg_controllen = CONTROL_LEN;
    }
  }
  int n;
  do n = recvmmsg(s->base.fd, msgs, s->batch, MSG_DONTWAIT, NULL);
  while (n < 0 && errno == EINTR);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) s->overloaded = 0; /* the queue is empty */
  if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
  int64_t now = 0;
  if (s->max_age_ns > 0) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts); /* the clock of SO_TIMESTAMPNS */
    now = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
  }
  int64_t limit = s->overloaded ? s->max_age_ns / OVERLOAD_DIVISOR : s->max_age_ns;
  for (int i = 0; i < n; i++) {
    int truncated = (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) != 0;
    s->meta[3 * i] = truncated ? -1 : (int32_t)msgs[i].msg_len;
    if (s->max_age_ns > 0 && now - received_at(&msgs[i].msg_hdr, now) > limit) {
      s->meta[3 * i] = -2;
      s->overloaded = 1;
      limit = s->max_age_ns / OVERLOAD_DIVISOR;
    }
    s->meta[3 * i + 1] = (int32_t)ntohl(from[i].sin_addr.s_addr);
    s->meta[3 * i + 2] = ntohs(from[i].sin_port);
  }
  if (n < (int)s->batch) s->overloaded = 0; /* fewer than asked for: the queue is empty now */
  return n;
}

/* One batch per wake-up: the poll is level-triggered, so what is left wakes us again. */
static void on_readable(poll_sock *b) {
  int n = receive_batch((dhcp_sock *)b);
  if (n > 0) call_js(b, 0, n);
  else if (n < 0) call_js(b, 1, -n);
}

static void on_failed(poll_sock *b, int err) { call_js(b, 1, err); }
static void on_writable(poll_sock *b) { call_js(b, 2, 0); }

static const poll_sock_ops dhcp_ops = {
    .resource = "pxekit:dhcp",
    .readable = on_readable,
    .failed = on_failed,
    .writable = on_writable,
    .closing = NULL,
};

/* Creates, configures and binds the socket: its fd, or -errno. */
static int bind_socket(const char *address, int port, int reuse, int timestamps) {
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  if (inet_pton(AF_INET, address, &a.sin_addr) != 1) return -EINVAL;
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  int one = 1, rcvbuf = 4 << 20;
  if ((reuse && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0) ||
      setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof one) != 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0) {
    int e = errno;
    close(fd);
    return -e;
  }
  /* The default (~200 KiB, a few hundred small datagrams) overflows when the event loop pauses for
   * ~30 ms (a GC, the first compilations of a cold start, a busy machine) while every client boots at
   * once: the kernel then drops DISCOVERs. The kernel caps this at rmem_max. Best effort. */
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  /* Kernel receive times, for the age limit (see the top). Best effort: without them nothing is stale. */
  if (timestamps) setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one);
  return fd;
}

static napi_value js_open(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  char address[64];
  size_t len, slots_len, meta_len;
  int32_t port, max_age_ms = 0;
  bool reuse;
  void *slots, *meta;
  napi_typedarray_type tt;
  napi_valuetype t;
  if (argc < 6 || napi_get_value_string_utf8(env, argv[0], address, sizeof address, &len) != napi_ok ||
      napi_get_value_int32(env, argv[1], &port) != napi_ok || port < 0 || port > 65535 ||
      napi_get_value_bool(env, argv[2], &reuse) != napi_ok ||
      napi_get_buffer_info(env, argv[3], &slots, &slots_len) != napi_ok ||
      napi_get_typedarray_info(env, argv[4], &tt, &meta_len, &meta, NULL, NULL) != napi_ok || tt != napi_int32_array ||
      meta_len < 3 || meta_len % 3 != 0 || meta_len / 3 > MAX_BATCH || slots_len / (meta_len / 3) < 576 ||
      napi_typeof(env, argv[5], &t) != napi_ok || t != napi_function ||
      (argc >= 7 && (napi_get_value_int32(env, argv[6], &max_age_ms) != napi_ok || max_age_ms < 0))) {
    napi_throw_type_error(env, NULL,
                          "dgramOpen(address, port, reuseAddr, slots: Buffer (>= 576 bytes a slot), meta: Int32Array "
                          "(3 per slot, at most 64 slots), cb, maxAgeMs >= 0)");
    return NULL;
  }
  int fd = bind_socket(address, port, reuse, max_age_ms > 0);
  if (fd < 0) return int32_value(env, fd);
  dhcp_sock *s = calloc(1, sizeof *s);
  if (s == NULL) {
    close(fd);
    return int32_value(env, -ENOMEM);
  }
  s->batch = (unsigned)(meta_len / 3);
  s->slots = slots;
  s->slot_len = slots_len / s->batch;
  s->meta = meta;
  s->max_age_ns = (int64_t)max_age_ms * 1000000;
  int err = 0;
  napi_value h = poll_sock_open(env, &s->base, fd, &dhcp_ops, argv[5], argv[3], argv[4], &err);
  return h != NULL ? h : int32_value(env, err);
}

static napi_value js_send(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  dhcp_sock *s = (dhcp_sock *)poll_sock_arg(env, info, 5, argv, &dhcp_ops);
  if (s == NULL) return NULL;
  void *data;
  size_t buflen;
  int32_t n, port;
  uint32_t addr;
  if (napi_get_buffer_info(env, argv[1], &data, &buflen) != napi_ok || napi_get_value_int32(env, argv[2], &n) != napi_ok ||
      n < 0 || (size_t)n > buflen || napi_get_value_uint32(env, argv[3], &addr) != napi_ok ||
      napi_get_value_int32(env, argv[4], &port) != napi_ok || port <= 0 || port > 65535) {
    napi_throw_range_error(env, NULL, "dgramSend(handle, buf, len within buf, addr: uint32, port: 1..65535)");
    return NULL;
  }
  if (s->base.closed) return int32_value(env, -EBADF);
  struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr.s_addr = htonl(addr)};
  ssize_t r;
  do r = sendto(s->base.fd, data, (size_t)n, 0, (struct sockaddr *)&to, sizeof to);
  while (r < 0 && errno == EINTR);
  if (r < 0) r = errno == EWOULDBLOCK ? -EAGAIN : -errno;
  return int32_value(env, (int32_t)r);
}

void dhcp_socket_register(napi_env env, napi_value exports) {
  napi_property_descriptor d[] = {
      {"dgramOpen", NULL, js_open, NULL, NULL, NULL, napi_default, NULL},
      {"dgramSend", NULL, js_send, NULL, NULL, NULL, napi_default, NULL},
      POLL_SOCK_METHOD("dgramWantWritable", poll_sock_js_want_writable, &dhcp_ops),
      POLL_SOCK_METHOD("dgramLocalPort", poll_sock_js_local_port, &dhcp_ops),
      POLL_SOCK_METHOD("dgramClose", poll_sock_js_close, &dhcp_ops),
  };
  napi_define_properties(env, exports, sizeof d / sizeof d[0], d);
}
