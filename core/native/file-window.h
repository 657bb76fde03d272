/* Shared read-only windows of files mapped into memory, for the TFTP chain (udp-arm.c). See file-window.c. */
#ifndef PXEKIT_FILE_WINDOW_H
#define PXEKIT_FILE_WINDOW_H
#include <stdint.h>
#include <sys/types.h>

/* Which file, in which version: a window is shared only by opens of the same inode, size and mtime. */
typedef struct {
  dev_t dev;
  ino_t ino;
  int64_t size;
  int64_t mtime_ns;
} file_id;

typedef struct file_window file_window;

/* Window bytes each window starts at a multiple of; a window maps FILE_WINDOW_BYTES plus
 * FILE_WINDOW_OVERLAP more, so any block of up to 64 KiB that starts in it lies wholly in it. */
#define FILE_WINDOW_BYTES (512 << 10)
#define FILE_WINDOW_OVERLAP (64 << 10)

/* The identity of the regular file open as `fd` (fstat), to be sent up to `size`; 0 on success, else an
 * errno (ESPIPE: the file is shorter than size now). */
int file_id_of(int fd, int64_t size, file_id *id);
/* The window of the file that holds offset `pos` (pos < id->size), mapped from `fd` if no one has it yet;
 * NULL when it cannot be mapped. Each acquire is matched by one release. */
file_window *file_window_acquire(const file_id *id, int fd, int64_t pos);
void file_window_release(file_window *w);
/* The file's bytes from `pos` on, which must lie in the window; only for the kernel to copy (sendmsg):
 * never read them in user space (a file truncated meanwhile would raise SIGBUS there, EFAULT in a send). */
const char *file_window_at(const file_window *w, int64_t pos);
/* Whether [pos, pos + len) is in the window (pos at or past its start, pos + len within its mapping). */
int file_window_holds(const file_window *w, int64_t pos, int64_t len);
/* The end of the page-cache-resident run of the window's pages from `pos` on, looking at most `ahead`
 * bytes past pos (mincore): pos itself when its page is not resident. */
int64_t file_window_resident_to(const file_window *w, int64_t pos, int64_t ahead);

#endif
