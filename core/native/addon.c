/*
 * pxekit_native: optional fast paths for TFTP transfers, built by build.mjs during `npm ci`.
 * Each part only moves bytes; every protocol decision stays in TypeScript (core/tftp).
 *   udp-socket.c  connected transfer sockets on node's event loop (less work per packet than node:dgram)
 *   file-read.c   page-cache reads without the thread pool (preadv2 RWF_NOWAIT)
 *   send-file.c   HTTP bodies from files with sendfile(2) (no copy through user space)
 */
#include "addon.h"

static napi_value init(napi_env env, napi_value exports) {
  udp_socket_register(env, exports);
  file_read_register(env, exports);
  send_file_register(env, exports);
  return exports;
}

NAPI_MODULE(pxekit_native, init)
