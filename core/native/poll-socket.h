/*
 * The lifecycle every socket of the addon shares (poll-socket.c): a non-blocking descriptor polled on node's
 * own event loop (uv_poll), one JavaScript callback, and state that lives until both the uv handle has
 * closed and the JS handle has been garbage-collected, so a late call on a closed socket never touches freed
 * memory. Each kind of socket embeds `poll_sock` as its FIRST member and fills `poll_sock_ops`.
 */
#ifndef PXEKIT_POLL_SOCKET_H
#define PXEKIT_POLL_SOCKET_H
#include "addon.h"
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

typedef struct poll_sock poll_sock;

typedef struct {
  const char *resource;                  /* async resource name ("pxekit:udp"), also used in argument errors */
  void (*readable)(poll_sock *s);        /* the descriptor is readable (level-triggered: what is left wakes it again) */
  void (*failed)(poll_sock *s, int err); /* a socket error (an ICMP error read from SO_ERROR, …) */
  void (*writable)(poll_sock *s);        /* writable again after poll_sock_want_writable(s, 1) */
  void (*closing)(poll_sock *s);         /* extra teardown just before the descriptor closes, or NULL */
} poll_sock_ops;

struct poll_sock {
  uv_poll_t poll;
  const poll_sock_ops *ops;
  int fd;
  int closed;
  int want_writable;
  int refs; /* 2 owners: the uv handle (until its close callback) and the JS handle (until finalized) */
  napi_env env;
  napi_ref cb;
  napi_ref keep[2]; /* buffers the C side reads or writes through raw pointers, referenced while open */
  napi_async_context actx;
};

/*
 * Takes over `fd` and `s` (calloc'ed, the derived struct, poll_sock first): references `cb` and the
 * `keep` values (NULL: none), starts polling for readability and returns the JS handle. On failure returns
 * NULL with *err = -errno, the descriptor closed and `s` freed.
 */
napi_value poll_sock_open(napi_env env, poll_sock *s, int fd, const poll_sock_ops *ops, napi_value cb,
                          napi_value keep0, napi_value keep1, int *err);
/* The socket in argv[0] of a call taking `n` arguments (all read into argv), or NULL with a TypeError pending. */
poll_sock *poll_sock_arg(napi_env env, napi_callback_info info, size_t n, napi_value *argv, const poll_sock_ops *ops);
/* Calls the JS callback with argv; an exception it throws goes to process 'uncaughtException'. 0, or -1. */
int poll_sock_call(poll_sock *s, size_t argc, napi_value *argv);
/* Keeps the state alive past a close until the matching release (a reply queued for later). */
void poll_sock_hold(poll_sock *s);
void poll_sock_release(poll_sock *s);
/* Idempotent: stops polling, closes the descriptor, drops the JS references. */
void poll_sock_close(poll_sock *s);
void poll_sock_want_writable(poll_sock *s, int want);
/* The bound port, or -1 when closed. */
int poll_sock_local_port(poll_sock *s);

/* JS entry points every kind shares: register each with the kind's ops as the property's `data`
 * (POLL_SOCK_COMMON below), so the handle's kind is checked. close(h) is idempotent; localPort(h) -> port,
 * -1 when closed; wantWritable(h, bool): poll for writability until the next writable callback. */
napi_value poll_sock_js_close(napi_env env, napi_callback_info info);
napi_value poll_sock_js_local_port(napi_env env, napi_callback_info info);
napi_value poll_sock_js_want_writable(napi_env env, napi_callback_info info);
#define POLL_SOCK_METHOD(name, fn, ops) {name, NULL, fn, NULL, NULL, NULL, napi_default, (void *)(ops)}

/* "1.2.3.4", "fe80::1%eth0" or "fe80::1%3" -> sockaddr with `port`; its length, or 0 if not an address. */
socklen_t sockaddr_parse(const char *text, int port, struct sockaddr_storage *out);
/* The address as text ("fe80::1%eth0" for a scoped one, "::ffff:1.2.3.4" for IPv4-mapped) into out (at least
 * SOCKADDR_TEXT bytes); returns the port. */
#define SOCKADDR_TEXT 64
int sockaddr_text(const struct sockaddr_storage *a, char *out);
/* A JS number from an int32. */
napi_value int32_value(napi_env env, int32_t v);
/* Throws an Error with `code` EADDRNOTAVAIL / EACCES / ESOCKET and "what: strerror". Returns NULL. */
napi_value throw_errno(napi_env env, const char *what, int err);

#endif
