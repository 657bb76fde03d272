/*
 * The poll-socket lifecycle shared by the addon's sockets (see poll-socket.h), and address helpers.
 *
 * Lifetime: like a node:dgram socket, an open socket lives (and keeps the event loop alive) until close():
 * its poll holds the callback, which holds the JS handle. The state is freed only when both the uv handle
 * has closed and the JS handle has been garbage-collected; a JS handle collected while open closes it first.
 */
#include "poll-socket.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void unref_sock(poll_sock *s) {
  if (--s->refs == 0) free(s);
}

void poll_sock_hold(poll_sock *s) { s->refs++; }
void poll_sock_release(poll_sock *s) { unref_sock(s); }

static void on_uv_closed(uv_handle_t *h) { unref_sock((poll_sock *)h->data); }

static void release_refs(poll_sock *s) {
  napi_delete_reference(s->env, s->cb);
  for (int i = 0; i < 2; i++)
    if (s->keep[i] != NULL) napi_delete_reference(s->env, s->keep[i]);
  napi_async_destroy(s->env, s->actx);
}

void poll_sock_close(poll_sock *s) {
  if (s->closed) return;
  s->closed = 1;
  uv_poll_stop(&s->poll);
  if (s->ops->closing != NULL) s->ops->closing(s);
  close(s->fd);
  s->fd = -1;
  release_refs(s);
  uv_close((uv_handle_t *)&s->poll, on_uv_closed);
}

static void finalize_handle(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  poll_sock *s = data;
  poll_sock_close(s); /* a socket nobody can reach any more: close it rather than leak the descriptor */
  unref_sock(s);
}

int poll_sock_call(poll_sock *s, size_t argc, napi_value *argv) {
  napi_env env = s->env;
  napi_value cb, recv, res;
  if (napi_get_reference_value(env, s->cb, &cb) != napi_ok || cb == NULL) return -1;
  napi_get_global(env, &recv); /* MakeCallback needs an object as receiver */
  napi_status st = napi_make_callback(env, s->actx, recv, cb, argc, argv, &res);
  if (st == napi_pending_exception) {
    napi_value err;
    napi_get_and_clear_last_exception(env, &err);
    napi_fatal_exception(env, err);
    return -1;
  }
  return st == napi_ok ? 0 : -1;
}

static void on_poll(uv_poll_t *p, int status, int events) {
  poll_sock *s = p->data;
  if (s->closed) return;
  napi_handle_scope scope;
  napi_open_handle_scope(s->env, &scope);
  s->refs++; /* the callback may close the socket: keep the state alive until we return */
  if (status < 0) {
    /* libuv reports EPOLLERR as EBADF and stops the poll. On a UDP socket that is a pending ICMP error (port
     * unreachable → ECONNREFUSED): read it (which clears it), keep polling, report it. Anything else stops. */
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = 0;
    if (err != 0) uv_poll_start(&s->poll, s->want_writable ? UV_READABLE | UV_WRITABLE : UV_READABLE, on_poll);
    s->ops->failed(s, err != 0 ? err : -status);
  } else {
    if (events & UV_READABLE) s->ops->readable(s);
    if ((events & UV_WRITABLE) && !s->closed) {
      s->want_writable = 0;
      uv_poll_start(&s->poll, UV_READABLE, on_poll);
      if (s->ops->writable != NULL) s->ops->writable(s);
    }
  }
  napi_close_handle_scope(s->env, scope);
  unref_sock(s);
}

napi_value poll_sock_open(napi_env env, poll_sock *s, int fd, const poll_sock_ops *ops, napi_value cb,
                          napi_value keep0, napi_value keep1, int *err) {
  s->fd = fd;
  s->env = env;
  s->ops = ops;
  s->refs = 2;
  napi_create_reference(env, cb, 1, &s->cb);
  if (keep0 != NULL) napi_create_reference(env, keep0, 1, &s->keep[0]);
  if (keep1 != NULL) napi_create_reference(env, keep1, 1, &s->keep[1]);
  napi_value name;
  napi_create_string_utf8(env, ops->resource, NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, NULL, name, &s->actx);
  uv_loop_t *loop;
  napi_get_uv_event_loop(env, &loop);
  int r = uv_poll_init(loop, &s->poll, fd);
  if (r != 0) { /* no uv handle to close: undo by hand */
    close(fd);
    release_refs(s);
    free(s);
    *err = r;
    return NULL;
  }
  s->poll.data = s;
  r = uv_poll_start(&s->poll, UV_READABLE, on_poll);
  napi_value ext;
  if (r != 0 || napi_create_external(env, s, finalize_handle, NULL, &ext) != napi_ok) {
    poll_sock_close(s); /* closes the uv handle: its callback drops one ref, this drops the JS one */
    unref_sock(s);
    *err = r != 0 ? r : -ENOMEM;
    return NULL;
  }
  return ext;
}

poll_sock *poll_sock_arg(napi_env env, napi_callback_info info, size_t n, napi_value *argv, const poll_sock_ops *ops) {
  size_t argc = n;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  void *p = NULL;
  if (argc < n) {
    napi_throw_type_error(env, NULL, "missing arguments");
    return NULL;
  }
  if (napi_get_value_external(env, argv[0], &p) != napi_ok || p == NULL || ((poll_sock *)p)->ops != ops) {
    char msg[96];
    snprintf(msg, sizeof msg, "not a %s socket handle", ops->resource);
    napi_throw_type_error(env, NULL, msg);
    return NULL;
  }
  return p;
}

/* poll_sock_arg for the shared entry points: the kind's ops come from the property's data. */
static poll_sock *shared_arg(napi_env env, napi_callback_info info, size_t n, napi_value *argv) {
  void *ops = NULL;
  size_t argc = 0;
  napi_get_cb_info(env, info, &argc, NULL, NULL, &ops);
  return poll_sock_arg(env, info, n, argv, ops);
}

napi_value poll_sock_js_close(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  poll_sock *s = shared_arg(env, info, 1, argv);
  if (s != NULL) poll_sock_close(s);
  return NULL;
}

napi_value poll_sock_js_local_port(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  poll_sock *s = shared_arg(env, info, 1, argv);
  return s == NULL ? NULL : int32_value(env, poll_sock_local_port(s));
}

napi_value poll_sock_js_want_writable(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  poll_sock *s = shared_arg(env, info, 2, argv);
  if (s == NULL) return NULL;
  bool want = false;
  napi_get_value_bool(env, argv[1], &want);
  poll_sock_want_writable(s, want);
  return NULL;
}

void poll_sock_want_writable(poll_sock *s, int want) {
  if (s->closed || want == s->want_writable) return;
  s->want_writable = want;
  uv_poll_start(&s->poll, want ? UV_READABLE | UV_WRITABLE : UV_READABLE, on_poll);
}

int poll_sock_local_port(poll_sock *s) {
  struct sockaddr_storage a;
  socklen_t len = sizeof a;
  if (s->closed || getsockname(s->fd, (struct sockaddr *)&a, &len) != 0) return -1;
  return ntohs(a.ss_family == AF_INET ? ((struct sockaddr_in *)&a)->sin_port : ((struct sockaddr_in6 *)&a)->sin6_port);
}

socklen_t sockaddr_parse(const char *text, int port, struct sockaddr_storage *out) {
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

int sockaddr_text(const struct sockaddr_storage *a, char *out) {
  out[0] = 0;
  if (a->ss_family == AF_INET) {
    const struct sockaddr_in *a4 = (const struct sockaddr_in *)a;
    inet_ntop(AF_INET, &a4->sin_addr, out, SOCKADDR_TEXT);
    return ntohs(a4->sin_port);
  }
  if (a->ss_family != AF_INET6) return 0;
  const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)a;
  inet_ntop(AF_INET6, &a6->sin6_addr, out, INET6_ADDRSTRLEN);
  if (a6->sin6_scope_id != 0) { /* node writes the zone as the interface name, falling back to the index */
    size_t n = strlen(out);
    char name[IF_NAMESIZE];
    if (if_indextoname(a6->sin6_scope_id, name) != NULL) snprintf(out + n, SOCKADDR_TEXT - n, "%%%s", name);
    else snprintf(out + n, SOCKADDR_TEXT - n, "%%%u", (unsigned)a6->sin6_scope_id);
  }
  return ntohs(a6->sin6_port);
}

napi_value int32_value(napi_env env, int32_t v) {
  napi_value out;
  napi_create_int32(env, v, &out);
  return out;
}

napi_value throw_errno(napi_env env, const char *what, int err) {
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
