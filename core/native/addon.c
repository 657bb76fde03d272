/*
 * pxekit_native: optional fast paths, built by build.mjs during `npm ci`.
 * Each part only moves bytes; every protocol decision stays in TypeScript (core/tftp, core/dhcp, core/http).
 *   udp-socket.c  connected transfer sockets on node's event loop (less work per packet than node:dgram)
 *   udp-arm.c     armed lock-step replies and the chain that answers a disk file's ACKs without JavaScript
 *   udp-batch.c   the chain's replies of one event-loop turn, sent together at its end (uring.c: io_uring)
 *   file-window.c shared read-only mappings of files, 512 KiB at a time, that the chain sends blocks from
 *   dhcp-socket.c the DHCP server's sockets: batched receives (recvmmsg), one sendto per reply
 *   listen-socket.c the TFTP listening socket: each request with the address it was sent to (IP_PKTINFO)
 *   poll-socket.c the lifecycle these sockets share (uv_poll on node's loop, refcounted state)
 *   file-read.c   page-cache reads without the thread pool (preadv2 RWF_NOWAIT)
 *   send-file.c   HTTP bodies from files with sendfile(2) (no copy through user space)
 *   send-worker.c the thread that runs those sends beside the event loop
 *   fault.c       faults met at run time, told to JavaScript (which logs them)
 */
#include "addon.h"
#include "fault.h"

static napi_value init(napi_env env, napi_value exports) {
  udp_socket_register(env, exports);
  file_read_register(env, exports);
  send_file_register(env, exports);
  dhcp_socket_register(env, exports);
  listen_socket_register(env, exports);
  fault_register(env, exports);
  return exports;
}

NAPI_MODULE(pxekit_native, init)
