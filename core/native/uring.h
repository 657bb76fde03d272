/*
 * A minimal io_uring (no liburing): many datagram sends in one system call (udp-batch.c).
 * Only sendmsg with MSG_DONTWAIT is submitted, so every send completes inside io_uring_enter (a full send
 * buffer answers -EAGAIN instead of waiting): the event loop never waits on the ring.
 */
#ifndef PXEKIT_URING_H
#define PXEKIT_URING_H
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

typedef struct {
  int fd;
  unsigned entries;
  unsigned *sq_head, *sq_tail, *sq_mask, *sq_array;
  unsigned *cq_head, *cq_tail, *cq_mask;
  void *sqes, *cqes;
  void *sq_map, *cq_map, *sqe_map;
  size_t sq_len, cq_len, sqe_len;
} uring;

/* 0, or -errno (ENOSYS: no io_uring here; EPERM: refused, e.g. by a container's seccomp profile). */
int uring_open(uring *r, unsigned entries);
void uring_close(uring *r);
/*
 * Sends msgs[i] on fds[i] for i < n, in order, in one io_uring_enter per `entries` messages; results[i] =
 * bytes sent or -errno, -ECANCELED for a message the ring did not take (the caller may send it itself),
 * -EINPROGRESS for one taken whose completion was not posted inside the call (its fate is unknown).
 * Returns 0, or -errno when the ring failed: then it must not be used again (-EINPROGRESS: a completion
 * may still be posted late).
 */
int uring_sendmsgs(uring *r, size_t n, const int *fds, struct msghdr *const *msgs, ssize_t *results);

#endif
