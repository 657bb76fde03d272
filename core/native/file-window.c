/*
 * Shared read-only windows of files mapped into memory, for the TFTP chain (udp-arm.c).
 *
 * Why: in a boot storm hundreds of lock-step transfers send the same boot file. Copying each block out of
 * the page cache into a per-transfer buffer (a read-ahead, then the lock-step slot) and from there into the
 * socket made every transfer touch its own copy of the bytes: with 500 transfers those copies no longer fit
 * in the CPU caches, and the server's CPU per storm rose by a tenth over a build that sent no file bytes at
 * all. With the file mapped once and each DATA packet sent by sendmsg straight from the mapping, the only
 * copy is the kernel's, from the page cache (one copy of the file for all transfers) into the packet.
 *
 * What is shared: a window is FILE_WINDOW_BYTES of one version of one file (inode, size and mtime, so a
 * file replaced or rewritten gets new windows), mapped with MAP_SHARED and PROT_READ, plus an overlap so
 * that a block starting in it ends in it. Windows, not whole files: a transfer holds one window at a time,
 * so a 1 GiB file sent to one client maps 576 KiB, not 1 GiB: address space, and the mapped pages that a
 * process's RSS counts (with 2 MiB windows, 200 transfers of an 8 MiB file raised the whole server's peak
 * RSS by 5 MiB more than the read-ahead build did; with 512 KiB, by the same). An idle window (no transfer
 * holds it) stays mapped for the next transfer of a popular file, which then finds its page tables filled:
 * at most FILE_WINDOW_IDLE_MAX of them, for at most 10 s, and none once no transfer holds any window.
 *
 * Safety: user space never reads the mapping (a file truncated under it would raise SIGBUS); only the
 * kernel does, in sendmsg, where a page past the new end fails the send with EFAULT. Pages not in the page
 * cache would make that send wait for the disk on the event loop: callers ask file_window_resident_to first
 * (mincore) and leave blocks that are not resident to the asynchronous reads in JavaScript.
 *
 * Threads: node worker threads may each run a pxekit with its own event loop; the list is under a mutex.
 */
#define _GNU_SOURCE
#include "file-window.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Idle windows kept mapped for the next transfer of the same file: at most this many, for at most this
 * long, and only while some transfer holds a window. Why bounded in time too: a mapping keeps its file's
 * inode alive, so a boot image replaced by rename would keep its disk space until the window goes. */
#define FILE_WINDOW_IDLE_MAX 4
#define FILE_WINDOW_IDLE_NS (10LL * 1000000000)

struct file_window {
  file_id id;
  int64_t start; /* file offset of the first mapped byte (a multiple of FILE_WINDOW_BYTES) */
  int64_t len;   /* bytes mapped */
  char *base;
  int refs;
  int64_t idle_since; /* CLOCK_MONOTONIC ns of the last release, for evicting the oldest idle window */
  file_window *next;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static file_window *windows; /* all mapped windows, in use or idle */
static int in_use;           /* windows with refs > 0 */

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int file_id_of(int fd, int64_t size, file_id *id) {
  struct stat st;
  if (fstat(fd, &st) != 0) return errno;
  if (!S_ISREG(st.st_mode)) return EINVAL;
  /* Shorter than JavaScript was told (it shrank since): no mapping; JavaScript's reads end the transfer. */
  if (st.st_size < size) return ESPIPE;
  id->dev = st.st_dev;
  id->ino = st.st_ino;
  id->size = size;
  id->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
  return 0;
}

static int same_file(const file_id *a, const file_id *b) {
  return a->dev == b->dev && a->ino == b->ino && a->size == b->size && a->mtime_ns == b->mtime_ns;
}

/* Unmaps idle windows: those idle since before `older_than`, then the oldest until `keep` are left. */
static void unmap_idle(int keep, int64_t older_than) {
  for (;;) {
    int idle = 0;
    file_window **oldest = NULL;
    for (file_window **p = &windows; *p != NULL; p = &(*p)->next) {
      if ((*p)->refs > 0) continue;
      idle++;
      if (oldest == NULL || (*p)->idle_since < (*oldest)->idle_since) oldest = p;
    }
    if (oldest == NULL || (idle <= keep && (*oldest)->idle_since >= older_than)) return;
    file_window *w = *oldest;
    *oldest = w->next;
    munmap(w->base, (size_t)w->len);
    free(w);
  }
}

file_window *file_window_acquire(const file_id *id, int fd, int64_t pos) {
  if (pos < 0 || pos >= id->size) return NULL;
  int64_t start = pos - pos % FILE_WINDOW_BYTES;
  pthread_mutex_lock(&mu);
  file_window *w = windows;
  while (w != NULL && !(w->start == start && same_file(&w->id, id))) w = w->next;
  if (w == NULL && (w = calloc(1, sizeof *w)) != NULL) {
    int64_t len = id->size - start;
    if (len > FILE_WINDOW_BYTES + FILE_WINDOW_OVERLAP) len = FILE_WINDOW_BYTES + FILE_WINDOW_OVERLAP;
    void *base = mmap(NULL, (size_t)len, PROT_READ, MAP_SHARED, fd, (off_t)start);
    if (base == MAP_FAILED) {
      free(w);
      w = NULL;
    } else {
      w->id = *id;
      w->start = start;
      w->len = len;
      w->base = base;
      w->next = windows;
      windows = w;
    }
  }
  if (w != NULL && w->refs++ == 0) in_use++;
  unmap_idle(FILE_WINDOW_IDLE_MAX, now_ns() - FILE_WINDOW_IDLE_NS);
  pthread_mutex_unlock(&mu);
  return w;
}

void file_window_release(file_window *w) {
  if (w == NULL) return;
  pthread_mutex_lock(&mu);
  if (--w->refs == 0) {
    int64_t now = now_ns();
    w->idle_since = now;
    /* The last transfer let go: nothing is kept (the next storm maps its windows again). */
    if (--in_use == 0) unmap_idle(0, INT64_MAX);
    else unmap_idle(FILE_WINDOW_IDLE_MAX, now - FILE_WINDOW_IDLE_NS);
  }
  pthread_mutex_unlock(&mu);
}

const char *file_window_at(const file_window *w, int64_t pos) { return w->base + (pos - w->start); }

int file_window_holds(const file_window *w, int64_t pos, int64_t len) {
  return pos >= w->start && pos < w->start + FILE_WINDOW_BYTES && pos + len <= w->start + w->len;
}

int64_t file_window_resident_to(const file_window *w, int64_t pos, int64_t ahead) {
  const int64_t page = getpagesize();
  int64_t end = w->start + w->len;
  if (pos >= end) return pos;
  if (pos + ahead < end) end = pos + ahead;
  int64_t first = (pos - w->start) / page, last = (end - w->start - 1) / page;
  unsigned char vec[64];
  if (last - first + 1 > (int64_t)sizeof vec) last = first + (int64_t)sizeof vec - 1;
  if (mincore(w->base + first * page, (size_t)((last - first + 1) * page), vec) != 0) return pos;
  int64_t p = first;
  while (p <= last && (vec[p - first] & 1)) p++;
  int64_t to = w->start + p * page;
  return to < pos ? pos : to > w->start + w->len ? w->start + w->len : to;
}
