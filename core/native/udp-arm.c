/*
 * Armed replies of a native transfer socket (udp-socket.c's API comment lists the calls).
 *
 *   armReply(handle, key, buf, len): when the next datagram starts with key[0..4), send buf[0, len) before
 *       JavaScript runs. One-shot.
 *   armChain(handle, key, buf, len, fd, slot0, slot1, block, blksize, size): armReply, and then the
 *       lock-step chain: once the armed block `block` (in slot[block & 1]) went out, write block + 1's DATA
 *       header into slot[(block + 1) & 1] and arm it, with its bytes taken straight from a shared mapping
 *       of the file (file-window.c), for the ACK of `block`; and so on. A step is one ACK answered that way,
 *       with no JavaScript: one recv and one sendmsg per block (dnsmasq: a poll, a recvmsg, a sendmsg, an
 *       lseek and a read), and no copy of the file's bytes in user space. The chain stops (JavaScript then
 *       gets the datagram as with armReply) at the block that would end the file (offset + blksize >= size:
 *       JavaScript handles the end), at a block not in the page cache, when the file cannot be mapped or a
 *       send fails, and on disarm or close.
 *   chainSteps(handle) -> steps taken and not yet reported (reset to 0); every callback also reports them.
 *
 * Slots JavaScript may read: blocks the chain sent from the mapping have only their header in their slot.
 * Before JavaScript can see a slot again (any callback, and every call from JavaScript on the socket) the
 * socket settles: the blocks JavaScript may still send (the last one sent, unacknowledged, and the armed
 * one) are read into their slots with pread. A read that fails or comes up short (the file shrank) is
 * reported as an error instead (udp-socket.c), so no block goes out with bytes that are not the file's.
 */
#define _GNU_SOURCE
#include "udp-socket.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

/* How far past a block the chain asks mincore about residency at once: one call per ~44 blocks of 1468. */
#define RESIDENT_AHEAD (64 * 1024)

void udp_disarm(udp_sock *s) {
  s->armed = 0;
  s->arm_body = NULL;
  s->chain = 0;
}

void udp_chain_free(udp_sock *s) {
  udp_disarm(s);
  s->lazy_from = 0; /* a late call on the closed socket must not write into slots JavaScript let go of */
  file_window_release(s->win);
  s->win = NULL;
}

/* Makes file bytes [pos, pos + blksize) of the chain's file sendable from a mapping: the window holding
 * pos (acquired when the block is past the one held) and its pages known to be in the page cache. */
static const char *chain_block_bytes(udp_sock *s, int64_t pos) {
  int64_t bs = s->chain_blksize;
  if (s->win == NULL || !file_window_holds(s->win, pos, bs)) {
    file_window_release(s->win);
    s->win = file_window_acquire(&s->chain_file, s->chain_fd, pos);
    s->resident_to = 0;
    if (s->win == NULL) return NULL;
  }
  if (pos + bs > s->resident_to) s->resident_to = file_window_resident_to(s->win, pos, RESIDENT_AHEAD);
  return pos + bs <= s->resident_to ? file_window_at(s->win, pos) : NULL;
}

/* Reads block b (a full one: the chain never makes the last) into its slot; 0 or an errno (EIO: short). */
static int materialize(udp_sock *s, int64_t b) {
  char *slot = s->chain_slot[b & 1];
  size_t want = (size_t)s->chain_blksize, got = 0;
  off_t at = (off_t)((b - 1) * s->chain_blksize);
  while (got < want) {
    ssize_t r = pread(s->chain_fd, slot + 4 + got, want - got, at + (off_t)got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return r < 0 ? errno : EIO;
    got += (size_t)r;
  }
  return 0;
}

int udp_is_slot(const udp_sock *s, const void *p) {
  for (int i = 0; i < 2; i++)
    if (s->chain_slot[i] != NULL && (const char *)p >= s->chain_slot[i] && (const char *)p < s->chain_slot[i] + 4 + s->chain_blksize)
      return 1;
  return 0;
}

int udp_settle(udp_sock *s) {
  udp_batch_complete(s); /* a reply deferred to the end of the turn goes first: JavaScript sees its outcome */
  if (s->lazy_from == 0) return s->settle_err;
  int64_t last = s->chain_block, first = s->lazy_from;
  /* While the chain is armed, block chain_block - 1 is out and unacknowledged; once the armed block went
   * (or was dropped), the one before it was acknowledged and its slot is JavaScript's to reuse. */
  int64_t need = s->armed && s->chain ? last - 1 : last;
  if (first < need) first = need;
  s->lazy_from = 0;
  for (int64_t b = first; b <= last && s->settle_err == 0; b++) s->settle_err = materialize(s, b);
  return s->settle_err;
}

void udp_arm(udp_sock *s, const unsigned char *key, const char *data, size_t len) {
  memcpy(s->arm_key, key, 4);
  s->arm_data = data;
  s->arm_body = NULL;
  s->arm_len = len;
  s->armed = 1;
}

/* One chain step after the armed block went out: the next block's header into the other slot, armed with
 * its bytes in the file's mapping for the ACK of the block just sent. 0 (chain over, JavaScript takes it
 * from here) when the next block ends the file or is not in the page cache, or the file cannot be mapped. */
static int chain_next(udp_sock *s) {
  int64_t sent = s->chain_block, next = sent + 1;
  int64_t pos = sent * s->chain_blksize; /* block b holds bytes [(b - 1) * blksize, b * blksize) */
  if (pos + s->chain_blksize >= s->chain_size) return 0;
  const char *bytes = chain_block_bytes(s, pos);
  if (bytes == NULL) return 0;
  char *slot = s->chain_slot[next & 1];
  slot[0] = 0;
  slot[1] = 3; /* DATA */
  slot[2] = (char)((next >> 8) & 0xff);
  slot[3] = (char)(next & 0xff);
  unsigned char key[4] = {0, 4 /* ACK */, (unsigned char)((sent >> 8) & 0xff), (unsigned char)(sent & 0xff)};
  udp_arm(s, key, slot, 4);
  s->arm_body = bytes;
  s->arm_body_len = (size_t)s->chain_blksize;
  if (s->lazy_from == 0) s->lazy_from = next;
  s->chain = 1;
  s->chain_block = next;
  s->steps++;
  return 1;
}

int udp_armed_for(const udp_sock *s, ssize_t n) { return s->armed && n >= 4 && memcmp(s->recvbuf, s->arm_key, 4) == 0; }

void udp_armed_msg(udp_sock *s, struct msghdr *mh, struct iovec *iov) {
  iov[0] = (struct iovec){(void *)s->arm_data, s->arm_len};
  iov[1] = (struct iovec){(void *)s->arm_body, s->arm_body_len};
  *mh = (struct msghdr){.msg_iov = iov, .msg_iovlen = s->arm_body != NULL ? 2 : 1};
}

int udp_armed_sent(udp_sock *s, ssize_t r) {
  int chained = s->chain;
  udp_disarm(s);
  if (r < 0) return 0;
  return chained && chain_next(s) ? 2 : 1;
}

int udp_fire_armed(udp_sock *s, ssize_t n) {
  if (!udp_armed_for(s, n)) return 0;
  struct iovec iov[2];
  struct msghdr mh;
  udp_armed_msg(s, &mh, iov);
  ssize_t r;
  do r = sendmsg(s->base.fd, &mh, 0);
  while (r < 0 && errno == EINTR);
  return udp_armed_sent(s, r);
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
  udp_settle(s);
  udp_disarm(s);
  udp_arm(s, key, data, (size_t)n);
  return NULL;
}

napi_value udp_js_disarm(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  udp_sock *s = udp_sock_call(env, info, 1, argv);
  if (s == NULL) return NULL;
  udp_settle(s);
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
  udp_settle(s);
  udp_disarm(s);
  udp_arm(s, key, data, (size_t)n);
  /* A new chain may be of another file (or a new version of it): the next step maps its own window. */
  file_window_release(s->win);
  s->win = NULL;
  if (s->settle_err != 0 || file_id_of(fd, size, &s->chain_file) != 0) return NULL; /* a plain armReply */
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
  udp_settle(s); /* JavaScript asks on a timeout, before it resends from the slots */
  napi_create_int32(env, s->steps, &out);
  s->steps = 0;
  return out;
}

