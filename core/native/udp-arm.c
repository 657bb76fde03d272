/*
 * Armed replies of a native transfer socket (udp-socket.c's API comment lists the calls).
 *
 *   armReply(handle, key, buf, len): when the next datagram starts with key[0..4), send buf[0, len) before
 *       JavaScript runs. One-shot.
 *   armChain(handle, key, buf, len, fd, slot0, slot1, block, blksize, size): armReply, and then the
 *       lock-step chain: once the armed block `block` (in slot[block & 1]) went out, read block + 1 from
 *       `fd` at (block * blksize) with RWF_NOWAIT into slot[(block + 1) & 1], write its DATA header and arm
 *       it for the ACK of `block`; and so on. A step is one ACK answered that way, with no JavaScript. The
 *       file is read CHAIN_AHEAD_BYTES at a time (one preadv2 for about 11 blocks of 1468 bytes) into the
 *       socket's read-ahead, and each block copied from there into its slot: a lock-step transfer's steady
 *       state costs one recv and one send per block (dnsmasq: a poll, a recvmsg, a sendmsg, an lseek and a
 *       read). The chain stops (JavaScript then gets the datagram as with armReply) at the block that
 *       would end the file (offset + blksize >= size: JavaScript handles the end), at a block not in the
 *       page cache or a short read, when a send fails, and on disarm or close.
 *   chainSteps(handle) -> steps taken and not yet reported (reset to 0); every callback also reports them.
 */
#define _GNU_SOURCE /* preadv2, RWF_NOWAIT */
#include "udp-socket.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#ifndef RWF_NOWAIT
#define RWF_NOWAIT 0x00000008
#endif

/* Bytes the chain reads from the file at once (whole blocks, at least one). Why: in lock-step the
 * per-block preadv2 was ~7 % of the server's CPU (a syscall and the page-cache lookup for 1468 bytes);
 * one read for several blocks costs about what one did, and the copy into the slot is ~0.1 µs. Small
 * enough that hundreds of concurrent transfers hold little (500 x 16 KiB = 8 MiB). */
#define CHAIN_AHEAD_BYTES (16 * 1024)

void udp_disarm(udp_sock *s) {
  s->armed = 0;
  s->chain = 0;
}

void udp_chain_free(udp_sock *s) {
  udp_disarm(s);
  free(s->ahead);
  s->ahead = NULL;
  s->ahead_cap = s->ahead_len = 0;
}

/* Makes file bytes [pos, pos + blksize) of the chain's file available in the read-ahead; a pointer to
 * them, or NULL when they are not all in the page cache (or the file is shorter, or no memory). */
static const char *chain_block_bytes(udp_sock *s, int64_t pos) {
  int64_t bs = s->chain_blksize;
  if (s->ahead != NULL && s->ahead_fd == s->chain_fd && pos >= s->ahead_pos &&
      pos + bs <= s->ahead_pos + s->ahead_len)
    return s->ahead + (pos - s->ahead_pos);
  int64_t want = bs * (CHAIN_AHEAD_BYTES / bs > 1 ? CHAIN_AHEAD_BYTES / bs : 1);
  if (s->ahead_cap < want) {
    free(s->ahead);
    s->ahead = malloc((size_t)want);
    s->ahead_cap = s->ahead != NULL ? want : 0;
    s->ahead_len = 0;
    if (s->ahead == NULL) return NULL;
  }
  if (want > s->chain_size - pos) want = s->chain_size - pos; /* never past the size JavaScript announced */
  struct iovec iov = {.iov_base = s->ahead, .iov_len = (size_t)want};
  ssize_t r;
  /* RWF_NOWAIT: what is cached, from pos on (short if a later page is not), or EAGAIN if the first is not. */
  do r = preadv2(s->chain_fd, &iov, 1, (off_t)pos, RWF_NOWAIT);
  while (r < 0 && errno == EINTR);
  s->ahead_fd = s->chain_fd;
  s->ahead_pos = pos;
  s->ahead_len = r > 0 ? r : 0;
  return r >= bs ? s->ahead : NULL;
}

void udp_arm(udp_sock *s, const unsigned char *key, const char *data, size_t len) {
  memcpy(s->arm_key, key, 4);
  s->arm_data = data;
  s->arm_len = len;
  s->armed = 1;
}

/* One chain step after the armed block went out: the next block from the page cache (through the
 * read-ahead) into the other slot, armed for the ACK of the block just sent. 0 (chain over, JavaScript
 * takes it from here) when the next block ends the file, is not cached, or the read comes up short. */
static int chain_next(udp_sock *s) {
  int64_t sent = s->chain_block, next = sent + 1;
  int64_t pos = sent * s->chain_blksize; /* block b holds bytes [(b - 1) * blksize, b * blksize) */
  if (pos + s->chain_blksize >= s->chain_size) return 0;
  const char *bytes = chain_block_bytes(s, pos);
  if (bytes == NULL) return 0;
  char *slot = s->chain_slot[next & 1];
  memcpy(slot + 4, bytes, (size_t)s->chain_blksize);
  slot[0] = 0;
  slot[1] = 3; /* DATA */
  slot[2] = (char)((next >> 8) & 0xff);
  slot[3] = (char)(next & 0xff);
  unsigned char key[4] = {0, 4 /* ACK */, (unsigned char)((sent >> 8) & 0xff), (unsigned char)(sent & 0xff)};
  udp_arm(s, key, slot, (size_t)s->chain_blksize + 4);
  s->chain = 1;
  s->chain_block = next;
  s->steps++;
  return 1;
}

/* The armed reply, if this datagram is its key: sent now. 0: not sent (JavaScript handles the datagram
 * as usual and sends, or queues, itself); 1: sent, tell JavaScript; 2: sent and the chain armed the next
 * block, JavaScript need not run. */
int udp_fire_armed(udp_sock *s, ssize_t n) {
  if (!s->armed || n < 4 || memcmp(s->recvbuf, s->arm_key, 4) != 0) return 0;
  ssize_t r;
  do r = send(s->base.fd, s->arm_data, s->arm_len, 0);
  while (r < 0 && errno == EINTR);
  int chained = s->chain;
  udp_disarm(s);
  if (r < 0) return 0;
  return chained && chain_next(s) ? 2 : 1;
}

/* armReply(handle, key: Buffer(4+), buf, len): see the header comment. */
napi_value udp_js_arm_reply(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  udp_sock *s = udp_sock_call(env, info, 4, argv);
  if (s == NULL) return NULL;
  void *key, *data;
  size_t keylen, buflen;
  int32_t n;
  if (napi_get_buffer_info(env, argv[1], &key, &keylen) != napi_ok || keylen < 4 ||
      napi_get_buffer_info(env, argv[2], &data, &buflen) != napi_ok || napi_get_value_int32(env, argv[3], &n) != napi_ok ||
      n < 0 || (size_t)n > buflen) {
    napi_throw_range_error(env, NULL, "armReply(handle, key: 4 bytes, buf, len): len must be within buf");
    return NULL;
  }
  if (s->base.closed) return NULL;
  udp_disarm(s);
  udp_arm(s, key, data, (size_t)n);
  return NULL;
}

napi_value udp_js_disarm(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  udp_sock *s = udp_sock_call(env, info, 1, argv);
  if (s == NULL) return NULL;
  udp_disarm(s);
  return NULL;
}

/* armChain(handle, key, buf, len, fd, slot0, slot1, block, blksize, size): see the header comment. */
napi_value udp_js_arm_chain(napi_env env, napi_callback_info info) {
  napi_value argv[10];
  udp_sock *s = udp_sock_call(env, info, 10, argv);
  if (s == NULL) return NULL;
  void *key, *data, *slot0, *slot1;
  size_t keylen, buflen, len0, len1;
  int32_t n, fd;
  int64_t block, blksize, size;
  if (napi_get_buffer_info(env, argv[1], &key, &keylen) != napi_ok || keylen < 4 ||
      napi_get_buffer_info(env, argv[2], &data, &buflen) != napi_ok || napi_get_value_int32(env, argv[3], &n) != napi_ok ||
      n < 0 || (size_t)n > buflen || napi_get_value_int32(env, argv[4], &fd) != napi_ok || fd < 0 ||
      napi_get_buffer_info(env, argv[5], &slot0, &len0) != napi_ok ||
      napi_get_buffer_info(env, argv[6], &slot1, &len1) != napi_ok ||
      napi_get_value_int64(env, argv[7], &block) != napi_ok || napi_get_value_int64(env, argv[8], &blksize) != napi_ok ||
      napi_get_value_int64(env, argv[9], &size) != napi_ok || block < 1 || blksize < 8 || blksize > 65464 || size < 0 ||
      len0 < (size_t)blksize + 4 || len1 < (size_t)blksize + 4) {
    napi_throw_range_error(env, NULL,
                           "armChain(handle, key: 4 bytes, buf, len, fd, slot0, slot1, block >= 1, blksize 8..65464, size): "
                           "slots must hold blksize + 4 bytes");
    return NULL;
  }
  if (s->base.closed) return NULL;
  udp_disarm(s);
  udp_arm(s, key, data, (size_t)n);
  s->chain = 1;
  s->chain_fd = fd;
  s->chain_slot[0] = slot0;
  s->chain_slot[1] = slot1;
  s->chain_block = block;
  s->chain_blksize = blksize;
  s->chain_size = size;
  return NULL;
}

napi_value udp_js_chain_steps(napi_env env, napi_callback_info info) {
  napi_value argv[1], out;
  udp_sock *s = udp_sock_call(env, info, 1, argv);
  if (s == NULL) return NULL;
  napi_create_int32(env, s->steps, &out);
  s->steps = 0;
  return out;
}

