/* The native transfer socket's state, shared by udp-socket.c (the socket) and udp-arm.c (armed replies). */
#ifndef PXEKIT_UDP_SOCKET_H
#define PXEKIT_UDP_SOCKET_H
#include "file-window.h"
#include "poll-socket.h"
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

typedef struct {
  poll_sock base; /* first: the shared lifecycle (poll-socket.h) */
  char *recvbuf;
  size_t recvlen;
  /* An armed reply (armReply): when the next datagram starts with these 4 bytes, `arm_data` is sent
   * at once, before JavaScript runs. One-shot. */
  int armed;
  unsigned char arm_key[4];
  const char *arm_data; /* the JS wrapper keeps its Buffer referenced while armed (udp-socket.ts) */
  size_t arm_len;
  /* Sent after arm_data in the same datagram when not NULL: a chain block's bytes in a file mapping. */
  const char *arm_body;
  size_t arm_body_len;
  /* The chain (armChain): the file and the transfer's two lock-step slots (JS keeps them referenced). */
  int chain;
  int chain_fd;
  file_id chain_file;
  char *chain_slot[2];
  int64_t chain_block; /* absolute number of the armed block */
  int64_t chain_blksize;
  int64_t chain_size;
  int32_t steps; /* chain steps not yet reported to JavaScript */
  /* The mapped window of the chain's file that the next blocks are sent from, and the file offset up to
   * which its pages were last seen in the page cache (udp-arm.c). */
  file_window *win;
  int64_t resident_to;
  /* The first block whose slot holds only its header (its bytes went from the mapping), 0 when none; see
   * udp_settle. settle_err: a settle's read failed (sticky: nothing more is sent); reported once. */
  int64_t lazy_from;
  int settle_err;
  int settle_reported;
  /* A reply to an ACK of this turn of the event loop, sent at its end with the others (udp-batch.c):
   * pend 1: queued; 2: sent (pend_result: udp_armed_sent's), JavaScript not yet told; 0: none. */
  int pend;
  int pend_result;
  int32_t pend_len; /* the ACK's length, for JavaScript's callback */
  struct iovec pend_iov[2];
  struct msghdr pend_mh;
} udp_sock;

void udp_arm(udp_sock *s, const unsigned char *key, const char *data, size_t len);
/* Drops the armed reply and stops the chain. */
void udp_disarm(udp_sock *s);
/* At close: udp_disarm and lets go of the chain's file window. */
void udp_chain_free(udp_sock *s);
/* The socket in argv[0] of a call taking `n` arguments (all read into argv), or NULL with a TypeError pending. */
udp_sock *udp_sock_call(napi_env env, napi_callback_info info, size_t n, napi_value *argv);
/* udp-arm.c: armed replies and the lock-step chain. The armed reply, if the datagram of n bytes in recvbuf
 * is its key, sent now: 0: not sent (JavaScript handles the datagram as usual and sends, or queues, itself);
 * 1: sent (tell JavaScript); 2: sent and the chain armed the next block (JavaScript need not run). */
int udp_fire_armed(udp_sock *s, ssize_t n);
/* The parts of udp_fire_armed, for a reply sent later in a batch (udp-batch.c): whether the datagram is the
 * armed reply's key; the reply as a message (iov: 2 entries, both kept until sent); after the send with
 * result r (bytes or -errno), udp_fire_armed's result. */
int udp_armed_for(const udp_sock *s, ssize_t n);
void udp_armed_msg(udp_sock *s, struct msghdr *mh, struct iovec *iov);
int udp_armed_sent(udp_sock *s, ssize_t r);
/* Before JavaScript may look at the slots: reads the blocks it may still send into them (udp-arm.c's
 * header comment). 0, or the errno of a failed read (then and from then on). */
int udp_settle(udp_sock *s);
/* Whether p points into one of the chain's slots. */
int udp_is_slot(const udp_sock *s, const void *p);
/* udp-socket.c: tells JavaScript what became of a datagram whose armed reply was deferred (result as
 * udp_fire_armed's: 0 or 1; 2 needs no call). */
void udp_report_reply(udp_sock *s, int result, int32_t len);
/* udp-batch.c: defers the armed reply to the datagram of len bytes to the end of this event-loop turn;
 * 0 when batching is off (then send it now). */
int udp_batch_defer(udp_sock *s, int32_t len);
/* Sends s's deferred reply now, if it has one (JavaScript is told at the end of the turn as usual). */
void udp_batch_complete(udp_sock *s);
/* Sends every deferred reply and tells JavaScript about those it must know of. */
void udp_batch_flush(void);
napi_value udp_js_arm_reply(napi_env env, napi_callback_info info);
napi_value udp_js_disarm(napi_env env, napi_callback_info info);
napi_value udp_js_arm_chain(napi_env env, napi_callback_info info);
napi_value udp_js_chain_steps(napi_env env, napi_callback_info info);
napi_value udp_js_batch_mode(napi_env env, napi_callback_info info);
napi_value udp_js_batch_counts(napi_env env, napi_callback_info info);

#endif
