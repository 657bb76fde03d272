/*
 * The TFTP server's listening socket, which learns the address each request was sent to.
 *
 * Why: a server bound to 0.0.0.0 or :: on a host with several addresses of a family (secondary IPv4
 * addresses, an IPv6 SLAAC or privacy address beside the static one) answers from whatever source the
 * kernel picks for the client, which need not be the address the client sent its request to. UEFI firmware
 * (OVMF, AAVMF) drops such answers. node:dgram cannot tell which address a datagram came to; this socket
 * asks the kernel for it (IP_PKTINFO, IPV6_RECVPKTINFO, as dnsmasq does), so the server can bind each
 * transfer's socket to that address and send its own errors from it (sendmsg with a pktinfo cmsg).
 * Per request, never per block: the transfer then runs on its own connected socket (udp-socket.c).
 *
 * API (see listen-socket.ts for the typed wrapper):
 *   listenOpen(address, port, ipv6Only, recvBuf, cb) -> handle, or -errno when socket/bind fails
 *       Binds a UDP socket on `address` ("0.0.0.0", "::", "fe80::1%eth0", …):`port` (0: ephemeral);
 *       IPV6_V6ONLY = ipv6Only on an IPv6 one (else IPv4 clients arrive as ::ffff:a.b.c.d).
 *       cb(0, len, from, fromPort, to): a datagram of `len` bytes is in recvBuf (len > recvBuf.length:
 *           truncated), from `from`:`fromPort`, sent to the local address `to` ("" when the kernel did not
 *           say, or it was multicast). Addresses as node writes them: "fe80::1%eth0", "::ffff:10.0.0.1".
 *       cb(1, errno): a socket error
 *   listenSend(handle, buf, len, address, port, from) -> bytes sent, or -errno
 *       sendto, with the source address fixed to `from` (IP_PKTINFO / IPV6_PKTINFO; its zone for a
 *       link-local one) unless `from` is "".
 *   listenLocalPort(handle) -> port       listenClose(handle) (idempotent)
 */
#define _GNU_SOURCE /* struct in6_pktinfo */
#include "poll-socket.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
  poll_sock base; /* first: the shared lifecycle */
  int family;
  char *buf;
  size_t buflen;
} listen_sock;

/* Room for the one pktinfo cmsg each family delivers. */
typedef union {
  char bytes[CMSG_SPACE(sizeof(struct in6_pktinfo)) + CMSG_SPACE(sizeof(struct in_pktinfo))];
  struct cmsghdr align;
} pktinfo_control;

static void report_error(poll_sock *b, int err) {
  napi_value argv[2];
  napi_create_int32(b->env, 1, &argv[0]);
  napi_create_int32(b->env, err, &argv[1]);
  poll_sock_call(b, 2, argv);
}

/* The local address a datagram was sent to, from its pktinfo cmsg, as text into `to` ("" when none). */
static void destination_text(struct msghdr *m, char *to) {
  to[0] = 0;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c != NULL; c = CMSG_NXTHDR(m, c)) {
    struct sockaddr_storage a;
    memset(&a, 0, sizeof a);
    if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
      struct in_pktinfo pi;
      memcpy(&pi, CMSG_DATA(c), sizeof pi);
      /* ipi_spec_dst: the local address of the packet — the interface's own for a broadcast request. */
      ((struct sockaddr_in *)&a)->sin_family = AF_INET;
      ((struct sockaddr_in *)&a)->sin_addr = pi.ipi_spec_dst;
    } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
      struct in6_pktinfo pi;
      memcpy(&pi, CMSG_DATA(c), sizeof pi);
      if (IN6_IS_ADDR_MULTICAST(&pi.ipi6_addr)) return;
      struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&a;
      a6->sin6_family = AF_INET6;
      a6->sin6_addr = pi.ipi6_addr;
      /* A link-local address is only meaningful with its interface: bind needs the zone. */
      if (IN6_IS_ADDR_LINKLOCAL(&pi.ipi6_addr)) a6->sin6_scope_id = (uint32_t)pi.ipi6_ifindex;
    } else {
      continue;
    }
    sockaddr_text(&a, to);
    return;
  }
}

/* One datagram per wake-up: requests are rare next to transfer packets, and the poll is level-triggered. */
static void on_readable(poll_sock *b) {
  listen_sock *s = (listen_sock *)b;
  struct sockaddr_storage from;
  pktinfo_control ctl;
  struct iovec iov = {.iov_base = s->buf, .iov_len = s->buflen};
  struct msghdr m = {.msg_name = &from,
                     .msg_namelen = sizeof from,
                     .msg_iov = &iov,
                     .msg_iovlen = 1,
                     .msg_control = ctl.bytes,
                     .msg_controllen = sizeof ctl.bytes};
  ssize_t n;
  do n = recvmsg(b->fd, &m, MSG_TRUNC);
  while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno != EAGAIN && errno != EWOULDBLOCK) report_error(b, errno);
    return;
  }
  char from_text[SOCKADDR_TEXT], to_text[SOCKADDR_TEXT];
  int from_port = sockaddr_text(&from, from_text);
  destination_text(&m, to_text);
  napi_env env = b->env;
  napi_value argv[5];
  napi_create_int32(env, 0, &argv[0]);
  napi_create_int32(env, n > INT32_MAX ? INT32_MAX : (int32_t)n, &argv[1]);
  napi_create_string_utf8(env, from_text, NAPI_AUTO_LENGTH, &argv[2]);
  napi_create_int32(env, from_port, &argv[3]);
  napi_create_string_utf8(env, to_text, NAPI_AUTO_LENGTH, &argv[4]);
  poll_sock_call(b, 5, argv);
}

static const poll_sock_ops listen_ops = {
    .resource = "pxekit:listen",
    .readable = on_readable,
    .failed = report_error,
    .writable = NULL,
    .closing = NULL,
};

/* Creates, configures and binds the socket: its descriptor, or -errno. */
static int bind_socket(const struct sockaddr_storage *a, socklen_t alen, int ipv6_only) {
  int fd = socket(a->ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  int one = 1, v6only = ipv6_only != 0, rcvbuf = 4 << 20;
  int ok = a->ss_family == AF_INET
               ? setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof one) == 0
               : setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only) == 0 &&
                     setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof one) == 0;
  if (!ok || bind(fd, (const struct sockaddr *)a, alen) != 0) {
    int e = errno;
    close(fd);
    return -e;
  }
  /* Many clients may ask at once (a boot storm); the kernel caps this at rmem_max. Best effort. */
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  return fd;
}

static napi_value js_open(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  char address[SOCKADDR_TEXT];
  size_t len, buflen;
  int32_t port;
  bool ipv6_only;
  void *buf;
  napi_valuetype t;
  if (argc < 5 || napi_get_value_string_utf8(env, argv[0], address, sizeof address, &len) != napi_ok ||
      napi_get_value_int32(env, argv[1], &port) != napi_ok || port < 0 || port > 65535 ||
      napi_get_value_bool(env, argv[2], &ipv6_only) != napi_ok ||
      napi_get_buffer_info(env, argv[3], &buf, &buflen) != napi_ok || buflen == 0 ||
      napi_typeof(env, argv[4], &t) != napi_ok || t != napi_function) {
    napi_throw_type_error(env, NULL,
                          "listenOpen(address: string, port: 0..65535, ipv6Only: boolean, recvBuf: Buffer, cb: Function)");
    return NULL;
  }
  struct sockaddr_storage a;
  socklen_t alen = sockaddr_parse(address, port, &a);
  if (alen == 0) {
    napi_throw_type_error(env, NULL, "listenOpen: address must be an IPv4 or IPv6 address");
    return NULL;
  }
  int fd = bind_socket(&a, alen, ipv6_only);
  if (fd < 0) return int32_value(env, fd);
  listen_sock *s = calloc(1, sizeof *s);
  if (s == NULL) {
    close(fd);
    return int32_value(env, -ENOMEM);
  }
  s->family = a.ss_family;
  s->buf = buf;
  s->buflen = buflen;
  int err = 0;
  napi_value h = poll_sock_open(env, &s->base, fd, &listen_ops, argv[4], argv[3], NULL, &err);
  return h != NULL ? h : int32_value(env, err);
}

/* The control message that fixes a reply's source address, for a socket of `family`; its length. */
static size_t source_control(int family, const struct sockaddr_storage *src, pktinfo_control *ctl) {
  memset(ctl, 0, sizeof *ctl);
  struct cmsghdr *c = (struct cmsghdr *)ctl->bytes;
  if (family == AF_INET) {
    struct in_pktinfo pi = {.ipi_ifindex = 0, .ipi_spec_dst = ((const struct sockaddr_in *)src)->sin_addr};
    c->cmsg_level = IPPROTO_IP;
    c->cmsg_type = IP_PKTINFO;
    c->cmsg_len = CMSG_LEN(sizeof pi);
    memcpy(CMSG_DATA(c), &pi, sizeof pi);
    return CMSG_SPACE(sizeof pi);
  }
  /* On a dual-stack socket an IPv4-mapped source works too (the kernel turns it into IP_PKTINFO). */
  const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)src;
  struct in6_pktinfo pi = {.ipi6_addr = s6->sin6_addr, .ipi6_ifindex = s6->sin6_scope_id};
  c->cmsg_level = IPPROTO_IPV6;
  c->cmsg_type = IPV6_PKTINFO;
  c->cmsg_len = CMSG_LEN(sizeof pi);
  memcpy(CMSG_DATA(c), &pi, sizeof pi);
  return CMSG_SPACE(sizeof pi);
}

static napi_value js_send(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  listen_sock *s = (listen_sock *)poll_sock_arg(env, info, 6, argv, &listen_ops);
  if (s == NULL) return NULL;
  void *data;
  size_t buflen, len;
  int32_t n, port;
  char to_text[SOCKADDR_TEXT], from_text[SOCKADDR_TEXT];
  if (napi_get_buffer_info(env, argv[1], &data, &buflen) != napi_ok || napi_get_value_int32(env, argv[2], &n) != napi_ok ||
      n < 0 || (size_t)n > buflen || napi_get_value_string_utf8(env, argv[3], to_text, sizeof to_text, &len) != napi_ok ||
      napi_get_value_int32(env, argv[4], &port) != napi_ok || port <= 0 || port > 65535 ||
      napi_get_value_string_utf8(env, argv[5], from_text, sizeof from_text, &len) != napi_ok) {
    napi_throw_type_error(env, NULL,
                          "listenSend(handle, buf, len within buf, address: string, port: 1..65535, from: string)");
    return NULL;
  }
  struct sockaddr_storage to, from;
  socklen_t tolen = sockaddr_parse(to_text, port, &to);
  int has_from = from_text[0] != 0;
  if (tolen == 0 || to.ss_family != s->family || (has_from && (sockaddr_parse(from_text, 0, &from) == 0 ||
                                                               from.ss_family != s->family))) {
    napi_throw_type_error(env, NULL, "listenSend: address and from must be addresses of the socket's family");
    return NULL;
  }
  if (s->base.closed) return int32_value(env, -EBADF);
  pktinfo_control ctl;
  struct iovec iov = {.iov_base = data, .iov_len = (size_t)n};
  struct msghdr m = {.msg_name = &to, .msg_namelen = tolen, .msg_iov = &iov, .msg_iovlen = 1};
  if (has_from) {
    m.msg_control = ctl.bytes;
    m.msg_controllen = source_control(s->family, &from, &ctl);
  }
  ssize_t r;
  do r = sendmsg(s->base.fd, &m, 0);
  while (r < 0 && errno == EINTR);
  if (r < 0) r = errno == EWOULDBLOCK ? -EAGAIN : -errno;
  return int32_value(env, (int32_t)r);
}

void listen_socket_register(napi_env env, napi_value exports) {
  napi_property_descriptor d[] = {
      {"listenOpen", NULL, js_open, NULL, NULL, NULL, napi_default, NULL},
      {"listenSend", NULL, js_send, NULL, NULL, NULL, napi_default, NULL},
      POLL_SOCK_METHOD("listenLocalPort", poll_sock_js_local_port, &listen_ops),
      POLL_SOCK_METHOD("listenClose", poll_sock_js_close, &listen_ops),
  };
  napi_define_properties(env, exports, sizeof d / sizeof d[0], d);
}
