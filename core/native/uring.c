/* A minimal io_uring for batched datagram sends (uring.h). */
#define _GNU_SOURCE
#include "uring.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#if __has_include(<linux/io_uring.h>) && defined(__NR_io_uring_setup)
#include <linux/io_uring.h>

/* Submits `submit` entries without waiting for any completion. */
static int enter(int fd, unsigned submit) {
  long r;
  do r = syscall(__NR_io_uring_enter, fd, submit, 0, 0, NULL, 0);
  while (r < 0 && errno == EINTR);
  return r < 0 ? -errno : (int)r;
}

static void *map(int fd, size_t len, off_t off) {
  void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, off);
  return p == MAP_FAILED ? NULL : p;
}

int uring_open(uring *r, unsigned entries) {
  memset(r, 0, sizeof *r);
  r->fd = -1;
  struct io_uring_params p;
  memset(&p, 0, sizeof p);
  /* Only this thread submits, and completions need no task work from it: both spare the kernel work
   * (5.19 and 6.0); older kernels refuse the flags, then plain. */
  p.flags = IORING_SETUP_COOP_TASKRUN | IORING_SETUP_SINGLE_ISSUER;
  long fd = syscall(__NR_io_uring_setup, entries, &p);
  if (fd < 0 && errno == EINVAL) {
    memset(&p, 0, sizeof p);
    fd = syscall(__NR_io_uring_setup, entries, &p);
  }
  if (fd < 0) return -errno;
  r->fd = (int)fd;
  r->entries = p.sq_entries;
  r->sq_len = p.sq_off.array + p.sq_entries * sizeof(unsigned);
  r->cq_len = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
  int single = (p.features & IORING_FEAT_SINGLE_MMAP) != 0;
  if (single && r->cq_len > r->sq_len) r->sq_len = r->cq_len;
  r->sq_map = map(r->fd, r->sq_len, IORING_OFF_SQ_RING);
  r->cq_map = single ? r->sq_map : map(r->fd, r->cq_len, IORING_OFF_CQ_RING);
  r->sqe_len = p.sq_entries * sizeof(struct io_uring_sqe);
  r->sqe_map = map(r->fd, r->sqe_len, IORING_OFF_SQES);
  if (r->sq_map == NULL || r->cq_map == NULL || r->sqe_map == NULL) {
    int e = errno;
    uring_close(r);
    return -e;
  }
  char *sq = r->sq_map, *cq = r->cq_map;
  r->sq_head = (unsigned *)(sq + p.sq_off.head);
  r->sq_tail = (unsigned *)(sq + p.sq_off.tail);
  r->sq_mask = (unsigned *)(sq + p.sq_off.ring_mask);
  r->sq_array = (unsigned *)(sq + p.sq_off.array);
  r->cq_head = (unsigned *)(cq + p.cq_off.head);
  r->cq_tail = (unsigned *)(cq + p.cq_off.tail);
  r->cq_mask = (unsigned *)(cq + p.cq_off.ring_mask);
  r->cqes = cq + p.cq_off.cqes;
  r->sqes = r->sqe_map;
  return 0;
}

void uring_close(uring *r) {
  if (r->sqe_map != NULL) munmap(r->sqe_map, r->sqe_len);
  if (r->cq_map != NULL && r->cq_map != r->sq_map) munmap(r->cq_map, r->cq_len);
  if (r->sq_map != NULL) munmap(r->sq_map, r->sq_len);
  if (r->fd >= 0) close(r->fd);
  memset(r, 0, sizeof *r);
  r->fd = -1;
}

/* Takes the completions posted so far: results[user_data] = res. Returns how many. */
static unsigned reap(uring *r, ssize_t *results) {
  unsigned head = *r->cq_head, tail = __atomic_load_n(r->cq_tail, __ATOMIC_ACQUIRE), got = 0;
  struct io_uring_cqe *cqes = r->cqes;
  for (; head != tail; head++, got++) {
    struct io_uring_cqe *c = &cqes[head & *r->cq_mask];
    results[c->user_data] = c->res;
  }
  __atomic_store_n(r->cq_head, head, __ATOMIC_RELEASE);
  return got;
}

/* One chunk of at most r->entries messages. */
static int send_chunk(uring *r, size_t n, const int *fds, struct msghdr *const *msgs, ssize_t *results) {
  unsigned tail = *r->sq_tail, mask = *r->sq_mask;
  struct io_uring_sqe *sqes = r->sqes;
  for (size_t i = 0; i < n; i++) {
    unsigned idx = (tail + (unsigned)i) & mask;
    struct io_uring_sqe *e = &sqes[idx];
    memset(e, 0, sizeof *e);
    e->opcode = IORING_OP_SENDMSG;
    e->fd = fds[i];
    e->addr = (unsigned long)msgs[i];
    e->len = 1;
    e->msg_flags = MSG_DONTWAIT | MSG_NOSIGNAL; /* a full send buffer answers -EAGAIN, never a wait */
    e->user_data = i;
    r->sq_array[idx] = idx;
    results[i] = -ECANCELED; /* not submitted (until the kernel takes it) */
  }
  __atomic_store_n(r->sq_tail, tail + (unsigned)n, __ATOMIC_RELEASE);
  int used = enter(r->fd, (unsigned)n);
  if (used < (int)n) {
    /* Entries the kernel did not take must not be taken by a later call (their messages are gone then):
     * the submission tail is ours alone (no SQ polling thread), so it goes back to what was consumed. */
    __atomic_store_n(r->sq_tail, __atomic_load_n(r->sq_head, __ATOMIC_ACQUIRE), __ATOMIC_RELEASE);
  }
  unsigned want = used > 0 ? (unsigned)used : 0;
  for (unsigned i = 0; i < want; i++) results[i] = -EINPROGRESS; /* taken: its completion tells */
  /* Non-blocking sends complete inside the submitting call. One that did not would be posted later, under
   * an index a later batch reuses: the event loop does not wait for it, and the ring is not used again. */
  if (reap(r, results) < want) return -EINPROGRESS;
  return used < 0 ? used : 0;
}

int uring_sendmsgs(uring *r, size_t n, const int *fds, struct msghdr *const *msgs, ssize_t *results) {
  for (size_t at = 0; at < n; at += r->entries) {
    size_t k = n - at < r->entries ? n - at : r->entries;
    int err = send_chunk(r, k, fds + at, msgs + at, results + at);
    if (err < 0) {
      for (size_t i = at + k; i < n; i++) results[i] = -ECANCELED;
      return err;
    }
  }
  return 0;
}

#else /* no io_uring headers: callers send one by one */
int uring_open(uring *r, unsigned entries) {
  (void)entries;
  memset(r, 0, sizeof *r);
  r->fd = -1;
  return -ENOSYS;
}
void uring_close(uring *r) { (void)r; }
int uring_sendmsgs(uring *r, size_t n, const int *fds, struct msghdr *const *msgs, ssize_t *results) {
  (void)r, (void)fds, (void)msgs;
  for (size_t i = 0; i < n; i++) results[i] = -ENOSYS;
  return -ENOSYS;
}
#endif
