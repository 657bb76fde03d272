/**
 * `pxekit/testing`: what plugin authors need to test a plugin without sockets or root. A server from
 * plugin instances (`createTestServer`), requests through the real DHCP, TFTP and HTTP pipelines
 * (`inject`), synthetic PXE clients per architecture (`pxeClient`) and a fake clock (`useFakeClock`).
 * See docs/plugins.md, "Testing a plugin".
 */
export {
  createTestServer,
  TestServer,
  type TestServerOptions,
  type DhcpResult,
  type BootResult,
} from './testing/server.js';
export { pxeClient, type PxeClient, type PxeClientArch, type PxeClientOptions } from './testing/clients.js';
export { useFakeClock, type FakeClock } from './testing/clock.js';
export { syntheticDiscover, syntheticDiscoverBuffer, type SyntheticDiscoverOptions } from './explain/discover.js';
export { decode as decodeDhcp, encode as encodeDhcp } from './dhcp/codec.js';
export type { DhcpPacket } from './dhcp/packet.js';
export type { BootEvent } from './hooks/server.js';
