/*
 * readCached(fd, buf, offset, length, position) -> bytes read, or -errno
 *
 * A positional read that completes only if it needs no disk I/O: preadv2(..., RWF_NOWAIT) answers
 * EAGAIN instead of waiting for the disk. A TFTP transfer reads its file in chunks; node's async reads go
 * through the libuv thread pool (a thread wake-up and an event-loop wake-up per read), which is most of
 * the cost when the file is in the page cache, as boot files served to many clients are. On EAGAIN the
 * caller falls back to the async read, so a cold file never blocks the event loop. Kernels or file
 * systems without RWF_NOWAIT answer EOPNOTSUPP/ENOSYS/EINVAL: the caller then stops trying.
 */
#define _GNU_SOURCE
#include "addon.h"

#include <errno.h>
#include <string.h>
#include <sys/uio.h>

#ifndef RWF_NOWAIT
#define RWF_NOWAIT 0x00000008
#endif

static napi_value js_read_cached(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5], out;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t fd, off, len;
  int64_t pos;
  void *data;
  size_t buflen;
  if (argc < 5 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || napi_get_buffer_info(env, argv[1], &data, &buflen) != napi_ok ||
      napi_get_value_int32(env, argv[2], &off) != napi_ok || napi_get_value_int32(env, argv[3], &len) != napi_ok ||
      napi_get_value_int64(env, argv[4], &pos) != napi_ok || fd < 0 || off < 0 || len < 0 || pos < 0 ||
      (size_t)off + (size_t)len > buflen) {
    napi_throw_range_error(env, NULL, "readCached(fd, buf, offset, length, position): out of range");
    return NULL;
  }
  struct iovec iov = {.iov_base = (char *)data + off, .iov_len = (size_t)len};
  ssize_t r;
  do r = preadv2(fd, &iov, 1, (off_t)pos, RWF_NOWAIT);
  while (r < 0 && errno == EINTR);
  if (r < 0) r = errno == EWOULDBLOCK ? -EAGAIN : -errno;
  napi_create_int32(env, (int32_t)r, &out);
  return out;
}

/*
 * copy(dst, dstOffset, src, srcOffset, length): memmove between two Buffers. Buffer.copy of a slice
 * allocates a Uint8Array view per call; at one call per DATA block that garbage alone made V8 grow its
 * young generation by tens of MiB under load. This allocates nothing.
 */
static napi_value js_copy(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  void *dst, *src;
  size_t dlen, slen;
  int32_t doff, soff, len;
  if (argc < 5 || napi_get_buffer_info(env, argv[0], &dst, &dlen) != napi_ok || napi_get_value_int32(env, argv[1], &doff) != napi_ok ||
      napi_get_buffer_info(env, argv[2], &src, &slen) != napi_ok || napi_get_value_int32(env, argv[3], &soff) != napi_ok ||
      napi_get_value_int32(env, argv[4], &len) != napi_ok || doff < 0 || soff < 0 || len < 0 || (size_t)doff + (size_t)len > dlen ||
      (size_t)soff + (size_t)len > slen) {
    napi_throw_range_error(env, NULL, "copy(dst, dstOffset, src, srcOffset, length): out of range");
    return NULL;
  }
  memmove((char *)dst + doff, (char *)src + soff, (size_t)len);
  return NULL;
}

void file_read_register(napi_env env, napi_value exports) {
  napi_property_descriptor d[] = {
      {"readCached", NULL, js_read_cached, NULL, NULL, NULL, napi_default, NULL},
      {"copy", NULL, js_copy, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, 2, d);
}
