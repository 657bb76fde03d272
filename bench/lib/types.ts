/**
 * Shared shapes of the benchmark harness: a Target says how to start one server in the
 * server namespace of a bench LAN; a Row is one measured number for the final table.
 */
import type { Lan } from '../../test/helpers/realnet.js';

/** Which service a bench exercises (`boot`: DHCP + TFTP + HTTP for a whole network boot). */
export type Service = 'dhcp' | 'dhcp6' | 'tftp' | 'http' | 'boot';

/** What a bench hands a target factory before starting it. */
export interface TargetContext {
  lan: Lan;
  /** Fresh scratch folder for this start (configs, pid and lease files, logs). */
  workDir: string;
  /** The service under test; a multi-service server should only enable this one. */
  service: Service;
  /** Folder of files to serve (TFTP/HTTP benches). */
  root: string;
  /** TFTP bench: the port to listen on when not 69 (pxekit beside dnsmasq in the interleaved lock-step phase). */
  tftpPort?: number;
  /** The HTTP port when not 80 (two pxekit builds side by side: BENCH_PXEKIT_BASELINE). */
  httpPort?: number;
  /** DHCP and boot benches: the client subnet the server must lease from. */
  pool?: { subnet: string; netmask: string; prefix: number; first: string; last: string; router: string };
  /** DHCPv6 bench: the on-link prefix (CIDR) and the address range to lease from. */
  pool6?: { prefix: string; first: string; last: string };
}

/** How to run one server: `cmd args` inside the server namespace, then `ready` must resolve. */
export interface TargetSpec {
  cmd: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  /** Resolves once the server answers (bounded by the caller); throws if it cannot start. */
  ready(ctx: TargetContext): Promise<void>;
}

export interface Target {
  /** Column name in the table, e.g. "dnsmasq", "kea", "pxekit". */
  name: string;
  /** One line on what this variant is (e.g. "no lease file"). */
  note: string;
  /** Services this target can serve. */
  services: readonly Service[];
  /** Why this target cannot run here (binary missing...), or undefined. Checked before starting. */
  unavailable?(): string | undefined;
  prepare(ctx: TargetContext): Promise<TargetSpec> | TargetSpec;
}

/** One cell of the result table. `value` undefined means the target was skipped or failed. */
export interface Row {
  bench: string;
  metric: string;
  unit: string;
  target: string;
  value?: number;
  /** Short detail, e.g. "drops 0.4 %", or the reason a value is missing. */
  note?: string;
  /** For ratios: whether bigger is better (rates) or worse (RSS). */
  higherIsBetter: boolean;
}
