/** What `pxekit explain` reports (engine.ts builds it, verdict.ts judges it, format.ts prints it). */
import type { FetchView } from './fetch.js';
import type { PacketView } from './reply-view.js';

export interface ExplainInput {
  packet: Buffer;
  /** Where the packet arrives: 67 (`dhcp`) or 4011 (`bootserver`). */
  port: 'dhcp' | 'bootserver';
  /** How the packet was obtained, for the report (`synthetic DISCOVER`, `pcap frame 3`, …). */
  origin: string;
  /** The address the client uses for TFTP/HTTP (default 192.0.2.100, or the address full mode offers). */
  clientIp?: string;
  /** The server address the packet "arrived" on (default dhcp.serverAddress). */
  local?: string;
}

export interface DhcpStep {
  sent: string;
  port: number;
  reply?: PacketView & { to: string };
  /** Boot events of this step (type, outcome, plugin, reason), in order. */
  events: Array<{ type: string; outcome: string; plugin?: string; reason?: string }>;
}

export interface ExplainReport {
  config: { file: string; mode: 'proxy' | 'full'; plugins: string[]; skipped: string[] };
  input: { origin: string; mac: string; messageType: string; port: number };
  client: {
    mac: string;
    arch?: number;
    archName: string;
    firmware: string;
    cpu: string;
    vendorClass?: string;
    userClass: string[];
    isIpxe: boolean;
    isPxeClient: boolean;
    httpBoot: boolean;
    guid?: string;
    labels: Record<string, string>;
  };
  admit: { allowed: boolean; plugin?: string; reason?: string };
  /** selectBoot was asked (false: the packet was dropped or denied first). */
  bootAsked: boolean;
  boot?: {
    plugin?: string;
    file?: string;
    noBoot?: boolean;
    reason?: string;
    nextServer?: string;
    proxyPolicy?: string;
  };
  dhcp: DhcpStep[];
  bootFile?: string;
  fetches: FetchView[];
  notes: string[];
  /** Would the client boot? If not: why, and the fix (explain exits 1). */
  verdict: Verdict;
}

export interface Verdict {
  boots: boolean;
  /** One sentence: what the client gets, or why it gets nothing usable. */
  summary: string;
  /** How to make it boot (absent when it boots). */
  fix?: string;
}
