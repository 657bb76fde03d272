/*
 * The armed replies of one turn of the event loop, sent together at its end.
 *
 * Why: in a lock-step transfer every DATA block wakes its client. On a busy machine the woken client then
 * takes the server's CPU on the way out of the sendmsg that woke it, so each block cost the server a switch
 * out and back. Here the replies to the ACKs of one poll phase are queued and sent by a uv_check handle (it
 * runs right after the poll phase) with one io_uring_enter for all of them (uring.c), or one sendmsg each
 * where io_uring is not available: the server is switched out at most once per batch, not once per block.
 *
 * Nothing JavaScript can observe changes: a socket's deferred reply is sent before anything JavaScript does
 * on that socket (udp_settle, which every call settles first, and close), before that socket's next
 * datagram is read, and JavaScript hears of it (kind 3, or kind 0 when the send failed) at the end of the
 * turn, with the ACK still in the socket's recvbuf. PXEKIT_TFTP_BATCH=0 sends each reply at once instead;
 * PXEKIT_IO_URING=0 sends a batch by one sendmsg per reply.
 */
#define _GNU_SOURCE
#include "udp-socket.h"
#include "fault.h"
#include "uring.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* Replies per batch: a full batch is sent at once and a new one begins. */
#define BATCH_MAX 512
#define RING_ENTRIES 256

typedef struct {
  uv_check_t check;
  int ring_ok;
  uring ring;
  size_t n;
  udp_sock *items[BATCH_MAX];
  int fds[BATCH_MAX];
  struct msghdr *msgs[BATCH_MAX];
  ssize_t results[BATCH_MAX];
  size_t at[BATCH_MAX];
  double by_ring, by_sendmsg; /* replies sent each way (batchCounts) */
} batch;

/* One batch per thread: each Node.js environment (main thread, worker) has its own thread and loop. */
static _Thread_local batch *current;
static _Thread_local int tried; /* set up once per thread: off (PXEKIT_TFTP_BATCH=0, or it failed) stays off */

static void on_check(uv_check_t *c) {
  (void)c;
  udp_batch_flush();
}

static void on_closed(uv_handle_t *h) { free(h->data); }

/* At the environment's teardown JavaScript can no longer be told: the queued replies are dropped. */
static void teardown(void *arg) {
  batch *b = arg;
  for (size_t i = 0; i < b->n; i++) {
    b->items[i]->pend = 0;
    poll_sock_release(&b->items[i]->base);
  }
  b->n = 0;
  if (b->ring_ok) uring_close(&b->ring);
  current = NULL;
  uv_close((uv_handle_t *)&b->check, on_closed);
}

static batch *batch_for(napi_env env) {
  if (tried) return current;
  tried = 1;
  const char *off = getenv("PXEKIT_TFTP_BATCH");
  uv_loop_t *loop;
  if ((off != NULL && strcmp(off, "0") == 0) || napi_get_uv_event_loop(env, &loop) != napi_ok) return NULL;
  batch *b = calloc(1, sizeof *b);
  if (b == NULL || uv_check_init(loop, &b->check) != 0) {
    free(b);
    return NULL;
  }
  b->check.data = b;
  uv_check_start(&b->check, on_check);
  uv_unref((uv_handle_t *)&b->check); /* an idle server still exits */
  const char *ring = getenv("PXEKIT_IO_URING");
  b->ring_ok = !(ring != NULL && strcmp(ring, "0") == 0) && uring_open(&b->ring, RING_ENTRIES) == 0;
  napi_add_env_cleanup_hook(env, teardown, b);
  current = b;
  return b;
}

int udp_batch_defer(udp_sock *s, int32_t len) {
  batch *b = batch_for(s->base.env);
  if (b == NULL) return 0;
  if (b->n == BATCH_MAX) udp_batch_flush();
  udp_armed_msg(s, &s->pend_mh, s->pend_iov);
  s->pend = 1;
  s->pend_len = len;
  poll_sock_hold(&s->base); /* a close before the end of the turn must not free it under the batch */
  b->items[b->n++] = s;
  return 1;
}

static ssize_t send_now(udp_sock *s) {
  ssize_t r;
  do r = sendmsg(s->base.fd, &s->pend_mh, MSG_DONTWAIT | MSG_NOSIGNAL);
  while (r < 0 && errno == EINTR);
  return r < 0 ? -errno : r;
}

static void sent(udp_sock *s, ssize_t r) {
  s->pend = 2;
  s->pend_result = udp_armed_sent(s, r);
}

void udp_batch_complete(udp_sock *s) {
  if (s->pend != 1) return;
  current->by_sendmsg++; /* pend is only ever set through the current batch */
  sent(s, send_now(s));
}

/* Sends the queued replies (one io_uring_enter, or one sendmsg each); no JavaScript runs meanwhile. */
static void send_all(batch *b) {
  size_t k = 0;
  for (size_t i = 0; i < b->n; i++) {
    udp_sock *s = b->items[i];
    if (s->pend != 1 || s->base.closed) continue;
    b->fds[k] = s->base.fd;
    b->msgs[k] = &s->pend_mh;
    b->at[k++] = i;
  }
  if (k == 0) return;
  /* One reply alone goes by sendmsg: the ring's per-request setup would cost more than it saves. */
  if (b->ring_ok && k > 1) {
    int err = uring_sendmsgs(&b->ring, k, b->fds, b->msgs, b->results);
    if (err < 0) {
      b->ring_ok = 0; /* a failed ring is not trusted again: later batches go by sendmsg */
      uring_close(&b->ring);
      native_fault(b->items[b->at[0]]->base.env, "tftp.batch.fallback", -err);
    }
  } else
    for (size_t j = 0; j < k; j++) b->results[j] = -ECANCELED;
  for (size_t j = 0; j < k; j++) {
    udp_sock *s = b->items[b->at[j]];
    int direct = b->results[j] == -ECANCELED;
    if (direct) b->by_sendmsg++;
    else b->by_ring++;
    sent(s, direct ? send_now(s) : b->results[j]);
  }
}

void udp_batch_flush(void) {
  batch *b = current;
  if (b == NULL || b->n == 0) return;
  send_all(b);
  /* JavaScript runs from here on. It cannot add to the batch (only a datagram read does, never from
   * JavaScript), and a call on one of these sockets finds its reply already sent. */
  size_t n = b->n;
  b->n = 0;
  for (size_t i = 0; i < n; i++) {
    udp_sock *s = b->items[i];
    int due = s->pend == 2 && !s->base.closed;
    s->pend = 0;
    if (due) { /* from the check handle there is no handle scope yet */
      napi_handle_scope scope;
      napi_open_handle_scope(s->base.env, &scope);
      udp_report_reply(s, s->pend_result, s->pend_len);
      napi_close_handle_scope(s->base.env, scope);
    }
    poll_sock_release(&s->base);
  }
}

/* batchMode() -> "io_uring" (one io_uring_enter per batch), "sendmsg" (one sendmsg per reply, at the end of
 * the turn) or "off" (each reply sent at once): how this thread's replies go out (sets the batch up). */
napi_value udp_js_batch_mode(napi_env env, napi_callback_info info) {
  (void)info;
  batch *b = batch_for(env);
  napi_value out;
  napi_create_string_utf8(env, b == NULL ? "off" : b->ring_ok ? "io_uring" : "sendmsg", NAPI_AUTO_LENGTH, &out);
  return out;
}

/* batchCounts() -> [by io_uring, by sendmsg]: the batched replies this thread sent each way. */
napi_value udp_js_batch_counts(napi_env env, napi_callback_info info) {
  (void)info;
  batch *b = current;
  napi_value out, v;
  napi_create_array_with_length(env, 2, &out);
  napi_create_double(env, b == NULL ? 0 : b->by_ring, &v);
  napi_set_element(env, out, 0, v);
  napi_create_double(env, b == NULL ? 0 : b->by_sendmsg, &v);
  napi_set_element(env, out, 1, v);
  return out;
}
