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
 * API (see dhcp-socket.ts for the typed wrapper):
 *   dgramOpen(address, port, reuseAddr, slots: Buffer, meta: Int32Array, cb) -> handle, or -errno
 *       Binds a UDP/IPv4 socket (SO_BROADCAST on; SO_REUSEADDR when asked). `slots` holds
 *       meta.length / 3 datagrams of slots.length / (meta.length / 3) bytes each.
 *       cb(0, n): n datagrams arrived; datagram i is in slot i, meta[3i] = its length (-1: longer than a
 *                 slot, dropped), meta[3i + 1] = source IPv4 address (host order), meta[3i + 2] = port
 *       cb(1, errno): a socket error       cb(2, 0): writable again (after dgramWantWritable(h, true))
 *   dgramSend(handle, buf, len, addr (host order), port) -> bytes sent, or -errno (-EAGAIN: buffer full)
 *   dgramWantWritable(handle, bool)   dgramLocalPort(handle) -> port   dgramClose(handle) (idempotent)
 *
 * Lifetime as in udp-socket.c: the state is freed once the uv handle has closed and the JS handle has
 * been garbage-collected, so a late call on a closed socket never touches freed memory.
 */
#define _GNU_SOURCE /* recvmmsg */
#include "addon.h"
#include <uv.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_BATCH 64

typedef struct {
  uv_poll_t poll;
  int fd;
  int closed;
  int want_writable;
  int refs; /* the uv handle (until its close callback) and the JS handle (until finalized) */
  napi_env env;
  napi_ref cb;
  napi_ref slots_ref;
  napi_ref meta_ref;
  napi_async_context actx;
  char *slots;
  size_t slot_len;
  int32_t *meta;
  unsigned batch;
} dhcp_sock;

static void unref_sock(dhcp_sock *s) {
  if (--s->refs == 0) free(s);
}

static void on_uv_closed(uv_handle_t *h) { unref_sock((dhcp_sock *)h->data); }

static void close_sock(dhcp_sock *s) {
  if (s->closed) return;
  s->closed = 1;
  uv_poll_stop(&s->poll);
  close(s->fd);
  s->fd = -1;
  napi_delete_reference(s->env, s->cb);
  napi_delete_reference(s->env, s->slots_ref);
  napi_delete_reference(s->env, s->meta_ref);
  napi_async_destroy(s->env, s->actx);
  uv_close((uv_handle_t *)&s->poll, on_uv_closed);
}

static void finalize_handle(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  dhcp_sock *s = data;
  close_sock(s);
  unref_sock(s);
}

static void call_js(dhcp_sock *s, int kind, int32_t value) {
  napi_env env = s->env;
  napi_value cb, recv, argv[2], res;
  if (napi_get_reference_value(env, s->cb, &cb) != napi_ok || cb == NULL) return;
  napi_get_global(env, &recv);
  napi_create_int32(env, kind, &argv[0]);
  napi_create_int32(env, value, &argv[1]);
  if (napi_make_callback(env, s->actx, recv, cb, 2, argv, &res) == napi_pending_exception) {
    napi_value err;
    napi_get_and_clear_last_exception(env, &err);
    napi_fatal_exception(env, err);
  }
}

/* Up to `batch` datagrams in one recvmmsg; their count, 0 when none waited, -errno on an error. */
static int receive_batch(dhcp_sock *s) {
  struct mmsghdr msgs[MAX_BATCH];
  struct iovec iov[MAX_BATCH];
  struct sockaddr_in from[MAX_BATCH];
  memset(msgs, 0, sizeof(struct mmsghdr) * s->batch);
  for (unsigned i = 0; i < s->batch; i++) {
    iov[i].iov_base = s->slots + (size_t)i * s->slot_len;
    iov[i].iov_len = s->slot_len;
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
    msgs[i].msg_hdr.msg_name = &from[i];
    msgs[i].msg_hdr.msg_namelen = sizeof from[i];
  }
  int n;
  do n = recvmmsg(s->fd, msgs, s->batch, MSG_DONTWAIT, NULL);
  while (n < 0 && errno == EINTR);
  if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
  for (int i = 0; i < n; i++) {
    int truncated = (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) != 0;
    s->meta[3 * i] = truncated ? -1 : (int32_t)msgs[i].msg_len;
    s->meta[3 * i + 1] = (int32_t)ntohl(from[i].sin_addr.s_addr);
    s->meta[3 * i + 2] = ntohs(from[i].sin_port);
  }
  return n;
}

static void on_poll(uv_poll_t *p, int status, int events) {
  dhcp_sock *s = p->data;
  if (s->closed) return;
  napi_handle_scope scope;
  napi_open_handle_scope(s->env, &scope);
  s->refs++; /* the callback may close the socket: keep the state alive until we return */
  if (status < 0) {
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err == 0) err = -status;
    if (!s->closed) uv_poll_start(&s->poll, s->want_writable ? UV_READABLE | UV_WRITABLE : UV_READABLE, on_poll);
    call_js(s, 1, err);
  } else {
    if (events & UV_READABLE) {
      /* One batch per wake-up: the poll is level-triggered, so what is left wakes us again. */
      int n = receive_batch(s);
      if (n > 0) call_js(s, 0, n);
      else if (n < 0) call_js(s, 1, -n);
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

static dhcp_sock *sock_arg(napi_env env, napi_callback_info info, size_t n, napi_value *argv) {
  size_t argc = n;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  void *p = NULL;
  if (argc < n || napi_get_value_external(env, argv[0], &p) != napi_ok || p == NULL) {
    napi_throw_type_error(env, NULL, "not a pxekit DHCP socket handle, or missing arguments");
    return NULL;
  }
  return p;
}

static napi_value int_value(napi_env env, int32_t v) {
  napi_value out;
  napi_create_int32(env, v, &out);
  return out;
}

/* Creates, configures and binds the socket: its fd, or -errno. */
static int bind_socket(const char *address, int port, int reuse) {
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  if (inet_pton(AF_INET, address, &a.sin_addr) != 1) return -EINVAL;
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  int one = 1;
  if ((reuse && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0) ||
      setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof one) != 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0) {
    int e = errno;
    close(fd);
    return -e;
  }
  return fd;
}

static napi_value js_open(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  char address[64];
  size_t len, slots_len, meta_len;
  int32_t port;
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
      napi_typeof(env, argv[5], &t) != napi_ok || t != napi_function) {
    napi_throw_type_error(env, NULL,
                          "dgramOpen(address, port, reuseAddr, slots: Buffer (>= 576 bytes a slot), meta: Int32Array "
                          "(3 per slot, at most 64 slots), cb)");
    return NULL;
  }
  int fd = bind_socket(address, port, reuse);
  if (fd < 0) return int_value(env, fd);
  dhcp_sock *s = calloc(1, sizeof *s);
  if (s == NULL) {
    close(fd);
    return int_value(env, -ENOMEM);
  }
  s->fd = fd;
  s->env = env;
  s->refs = 2;
  s->batch = (unsigned)(meta_len / 3);
  s->slots = slots;
  s->slot_len = slots_len / s->batch;
  s->meta = meta;
  napi_create_reference(env, argv[3], 1, &s->slots_ref);
  napi_create_reference(env, argv[4], 1, &s->meta_ref);
  napi_create_reference(env, argv[5], 1, &s->cb);
  napi_value name;
  napi_create_string_utf8(env, "pxekit:dhcp", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, NULL, name, &s->actx);
  uv_loop_t *loop;
  napi_get_uv_event_loop(env, &loop);
  int r = uv_poll_init(loop, &s->poll, fd);
  if (r != 0) {
    close(fd);
    napi_delete_reference(env, s->cb);
    napi_delete_reference(env, s->slots_ref);
    napi_delete_reference(env, s->meta_ref);
    napi_async_destroy(env, s->actx);
    free(s);
    return int_value(env, r);
  }
  s->poll.data = s;
  r = uv_poll_start(&s->poll, UV_READABLE, on_poll);
  napi_value ext;
  if (r != 0 || napi_create_external(env, s, finalize_handle, NULL, &ext) != napi_ok) {
    close_sock(s);
    unref_sock(s);
    return int_value(env, r != 0 ? r : -ENOMEM);
  }
  return ext;
}

static napi_value js_send(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  dhcp_sock *s = sock_arg(env, info, 5, argv);
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
  if (s->closed) return int_value(env, -EBADF);
  struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr.s_addr = htonl(addr)};
  ssize_t r;
  do r = sendto(s->fd, data, (size_t)n, 0, (struct sockaddr *)&to, sizeof to);
  while (r < 0 && errno == EINTR);
  if (r < 0) r = errno == EWOULDBLOCK ? -EAGAIN : -errno;
  return int_value(env, (int32_t)r);
}

static napi_value js_want_writable(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  dhcp_sock *s = sock_arg(env, info, 2, argv);
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
  napi_value argv[1];
  dhcp_sock *s = sock_arg(env, info, 1, argv);
  if (s == NULL) return NULL;
  struct sockaddr_in a;
  socklen_t len = sizeof a;
  int port = -1;
  if (!s->closed && getsockname(s->fd, (struct sockaddr *)&a, &len) == 0) port = ntohs(a.sin_port);
  return int_value(env, port);
}

static napi_value js_close(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  dhcp_sock *s = sock_arg(env, info, 1, argv);
  if (s != NULL) close_sock(s);
  return NULL;
}

void dhcp_socket_register(napi_env env, napi_value exports) {
  napi_property_descriptor d[] = {
      {"dgramOpen", NULL, js_open, NULL, NULL, NULL, napi_default, NULL},
      {"dgramSend", NULL, js_send, NULL, NULL, NULL, napi_default, NULL},
      {"dgramWantWritable", NULL, js_want_writable, NULL, NULL, NULL, napi_default, NULL},
      {"dgramLocalPort", NULL, js_local_port, NULL, NULL, NULL, napi_default, NULL},
      {"dgramClose", NULL, js_close, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof d / sizeof d[0], d);
}
