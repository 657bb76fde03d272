/**
 * Typed wrapper around the project's lab kit in `test/lab/` (netns.sh, qemu-pxe.sh) for tests and benches:
 * a private LAN of network namespaces, commands run inside them (always bounded), tracked
 * servers that are killed on `down()`, and QEMU network boots. See docs/testing.md.
 *
 * Every caller must use its own short `name` (the prefix of every namespace): test files
 * run in parallel and two LANs with the same name would tear each other down.
 */
import type { TestContext } from 'node:test';
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { run, runOk, spawnTracked, waitFor, type RunResult, type Tracked } from './proc.js';

export interface LanOptions {
  /** Namespace prefix: 1-10 of [a-z0-9], starting with a letter; unique per test file/bench. */
  name: string;
  /** Server address with prefix length on `<name>-srv` eth0 (default 10.77.0.1/24). */
  srvIp?: string;
  /** Static address for the client stack's eth0 (default none: a DHCP client sets it). */
  cliIp?: string;
  /** Number of tap devices tap0.. in `<name>-cli` for QEMU guests (default 2). */
  taps?: number;
  /** Leave IPv6 on in the namespaces (default off). */
  ipv6?: boolean;
  /**
   * Start radvd on the server (`netns.sh ra`; needs radvd). `true`: no prefix, router lifetime 0,
   * M=0 O=0 — ends iPXE's ~13 s IPv6 router wait. An object sets an on-link SLAAC `prefix`
   * (e.g. `fd77::/64`, the server gets `fd77::1/64`) and the M (`managed`) / O (`other`) flags
   * that send clients to DHCPv6.
   */
  ra?: boolean | RaOptions;
}

export interface RaOptions {
  prefix?: string;
  managed?: boolean;
  other?: boolean;
}

export interface ExecOptions {
  timeoutMs: number;
  /** Added to (not replacing) this process's environment. */
  env?: NodeJS.ProcessEnv;
  input?: string;
}

export type Firmware = 'bios' | 'uefi' | 'uefi-sb' | 'uefi-http' | 'arm64' | 'arm64-http';

export interface BootOptions {
  firmware: Firmware;
  /** Tap in the client namespace (default tap0). */
  tap?: string;
  mac: string;
  /** Fixed string that ends the boot successfully when it appears on the serial console. */
  marker: string;
  failMarker?: string;
  /** Guest time bound in seconds (default 120). */
  timeoutSec?: number;
  /** Serial log path (default: a temp dir that `down()` removes; `BootResult.serial` has the text). */
  serialFile?: string;
  /** NIC model override (e.g. e1000 for UEFI with the iPXE EFI ROM). */
  nic?: string;
  /**
   * QEMU accelerator. Default `$QEMU_ACCEL`, else tcg: on this project's (nested) machines
   * /dev/kvm exists but the BIOS iPXE ROM stalls under it before DHCP (test/lab/README.md).
   */
  accel?: 'tcg' | 'kvm';
  /** Guest memory in MiB (qemu-pxe.sh default: 256 BIOS, 512 UEFI/arm64). */
  memMb?: number;
  /**
   * Added to qemu-pxe.sh's environment: firmware files (`OVMF_CODE`/`OVMF_VARS`, `OVMF_SB_CODE`/`OVMF_SB_VARS`,
   * `AAVMF_CODE`/`AAVMF_VARS`), e.g. the copies test/lab/boot-assets.sh unpacked.
   */
  env?: NodeJS.ProcessEnv;
  /**
   * Run the guest under `flock /tmp/pxekit-qemu.lock` (guests from every test and helper one at a time; TCG keeps
   * a core busy), waiting at most this many seconds for the lock. The wait does not count against `timeoutSec`.
   */
  lockWaitSec?: number;
  /** More QEMU arguments (after qemu-pxe.sh's own), e.g. `-fw_cfg name=opt/org.tianocore/IPv4PXESupport,string=n`. */
  qemuArgs?: readonly string[];
}

export interface BootResult {
  /** True when the marker was seen. */
  ok: boolean;
  /** qemu-pxe.sh's verdict: marker | timeout | qemu-exited | fail-marker | terminated | setup-error | lock-timeout | unknown. */
  result: string;
  /** Serial console with ANSI escapes and \r removed. */
  serial: string;
  serialFile: string;
  /** Wall time from QEMU start to the verdict, as measured by qemu-pxe.sh (ms); NaN if unknown. */
  elapsedMs: number;
  /** qemu-pxe.sh's exit code (0 marker, 1 timeout, 2 QEMU exited, 3 fail marker, 4 setup error). */
  code: number | null;
  /** qemu-pxe.sh's own stdout+stderr. */
  log: string;
}

export interface Lan {
  readonly name: string;
  readonly srvNs: string;
  readonly cliNs: string;
  /** Server address without prefix length, e.g. 10.77.0.1. */
  readonly srvAddr: string;
  up(): Promise<void>;
  /**
   * Stops every tracked process, then `netns.sh down --kill`, then removes the temp dirs it made.
   * Safe to call any number of times.
   */
  down(): Promise<void>;
  /** Attach namespace `<name>-<host>` to the bridge with address `cidr`; returns the namespace name. */
  addHost(host: string, cidr: string): Promise<string>;
  execIn(ns: string, cmd: string, args: readonly string[], opts: ExecOptions): Promise<RunResult>;
  /**
   * Start a long-running process in `ns` (its PID is the command's own: `ip netns exec` execs);
   * `env` is added to this process's environment. `down()` stops it if it is still running.
   */
  spawnIn(ns: string, cmd: string, args: readonly string[], opts?: { env?: NodeJS.ProcessEnv; cwd?: string }): Tracked;
  waitForUdpListen(ns: string, port: number, timeoutMs: number): Promise<void>;
  waitForTcpListen(ns: string, port: number, timeoutMs: number): Promise<void>;
  bootQemu(opts: BootOptions): Promise<BootResult>;
}

/** The lab kit: `test/lab` in this repository (netns.sh, qemu-pxe.sh, install.sh, capture.sh). */
export const realnetDir = (): string => fileURLToPath(new URL('../lab/', import.meta.url));

/** Absolute path of an executable found on PATH (plus the sbin dirs), or undefined. */
export function which(cmd: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/local/sbin', '/usr/sbin', '/sbin'];
  for (const d of dirs) {
    if (!d) continue;
    const p = path.join(d, cmd);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      /* next */
    }
  }
  return undefined;
}

/**
 * Why realnet tests cannot run here, or undefined when they can: root, /dev/net/tun, the
 * realnet scripts, `ip`, and every extra tool named in `tools` (e.g. ['dnsmasq', 'udhcpc']).
 */
export function realnetAvailable(tools: readonly string[] = []): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces)';
  if (!existsSync('/dev/net/tun')) return 'needs /dev/net/tun';
  const missing = ['ip', 'bash', ...tools].filter((t) => !which(t));
  return missing.length ? `missing tools: ${missing.join(', ')} (run: sudo bash test/lab/install.sh)` : undefined;
}

function raArgs(ra: true | RaOptions): string[] {
  if (ra === true) return [];
  return [
    ...(ra.prefix ? ['--prefix', ra.prefix] : []),
    ...(ra.managed ? ['--managed'] : []),
    ...(ra.other ? ['--other'] : []),
  ];
}

/** The lock every QEMU guest of the test suite runs under (`PXEKIT_QEMU_LOCK` overrides it). */
export const QEMU_LOCK = process.env.PXEKIT_QEMU_LOCK ?? '/tmp/pxekit-qemu.lock';

const NAME_RE = /^[a-z][a-z0-9]{0,9}$/;
// eslint-disable-next-line no-control-regex -- ANSI escapes start with ESC
const ANSI_RE = /\x1b\[[0-9;?]*[A-Za-z]/g;

export function createLan(opts: LanOptions): Lan {
  if (!NAME_RE.test(opts.name))
    throw new Error(`realnet: bad LAN name '${opts.name}' (1-10 of [a-z0-9], letter first)`);
  const kit = realnetDir();
  const srvIp = opts.srvIp ?? '10.77.0.1/24';
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    REALNET_NAME: opts.name,
    REALNET_SRV_IP: srvIp,
    REALNET_CLI_IP: opts.cliIp ?? '',
    REALNET_TAPS: String(opts.taps ?? 2),
    REALNET_IPV6: opts.ipv6 ? '1' : '0',
  };
  const tracked = new Set<Tracked>();
  const tempDirs: string[] = [];
  const net = (args: string[], timeoutMs = 30_000) =>
    runOk('bash', [path.join(kit, 'netns.sh'), ...args], { timeoutMs, env });
  const listening = async (ns: string, flag: '-lnu' | '-lnt', port: number) => {
    const r = await run('ip', ['netns', 'exec', ns, 'ss', '-H', flag], { timeoutMs: 5_000 });
    return r.stdout.split('\n').some((l) => (l.trim().split(/\s+/)[3] ?? '').endsWith(`:${port}`));
  };

  const lan: Lan = {
    name: opts.name,
    srvNs: `${opts.name}-srv`,
    cliNs: `${opts.name}-cli`,
    srvAddr: srvIp.split('/')[0] ?? srvIp,

    async up() {
      await net(['up']);
      if (opts.ra) await net(['ra', ...raArgs(opts.ra)]);
    },

    async down() {
      await Promise.all([...tracked].map((p) => p.stop(3_000)));
      tracked.clear();
      await run('bash', [path.join(kit, 'netns.sh'), 'down', '--kill'], { timeoutMs: 30_000, env });
      for (const d of tempDirs.splice(0)) rmSync(d, { recursive: true, force: true });
    },

    async addHost(host, cidr) {
      await net(['add-host', host, cidr]);
      return `${opts.name}-${host}`;
    },

    execIn(ns, cmd, args, o) {
      return run('ip', ['netns', 'exec', ns, cmd, ...args], {
        timeoutMs: o.timeoutMs,
        env: { ...process.env, ...o.env },
        input: o.input,
      });
    },

    spawnIn(ns, cmd, args, o = {}) {
      const p = spawnTracked('ip', ['netns', 'exec', ns, cmd, ...args], {
        env: { ...process.env, ...o.env },
        cwd: o.cwd,
      });
      tracked.add(p);
      void p.exitPromise.then(() => tracked.delete(p));
      return p;
    },

    async waitForUdpListen(ns, port, timeoutMs) {
      await waitFor(() => listening(ns, '-lnu', port), timeoutMs, `UDP port ${port} in ${ns}`);
    },

    async waitForTcpListen(ns, port, timeoutMs) {
      await waitFor(() => listening(ns, '-lnt', port), timeoutMs, `TCP port ${port} in ${ns}`);
    },

    async bootQemu(b) {
      const timeoutSec = b.timeoutSec ?? 120;
      let serialFile = b.serialFile;
      if (!serialFile) {
        const dir = mkdtempSync(path.join(tmpdir(), 'pxk-qemu-'));
        tempDirs.push(dir); // removed by down(); the result carries the serial text
        serialFile = path.join(dir, `${b.firmware}.serial.log`);
      }
      const args = [
        path.join(kit, 'qemu-pxe.sh'),
        '--firmware',
        b.firmware,
        '--netns',
        lan.cliNs,
        '--tap',
        b.tap ?? 'tap0',
        '--mac',
        b.mac,
        '--serial',
        serialFile,
        '--marker',
        b.marker,
        '--timeout',
        String(timeoutSec),
      ];
      if (b.failMarker) args.push('--fail-marker', b.failMarker);
      if (b.nic) args.push('--nic', b.nic);
      if (b.memMb) args.push('--mem', String(b.memMb));
      if (b.qemuArgs?.length) args.push('--', ...b.qemuArgs);
      const lockWait = b.lockWaitSec ?? 0;
      // flock exits 75 when the lock stayed busy for lockWaitSec (qemu-pxe.sh never exits 75).
      const cmd =
        lockWait > 0 ? ['flock', '-w', String(lockWait), '-E', '75', QEMU_LOCK, 'bash', ...args] : ['bash', ...args];
      const p = spawnTracked(cmd[0]!, cmd.slice(1), {
        env: { ...env, ...b.env, QEMU_ACCEL: b.accel ?? process.env.QEMU_ACCEL ?? 'tcg' },
      });
      tracked.add(p);
      // qemu-pxe.sh bounds the guest itself; this outer bound only covers a wedged script.
      const guard = setTimeout(() => void p.stop(5_000), (timeoutSec + lockWait + 30) * 1000);
      const code = await p.exitPromise;
      clearTimeout(guard);
      tracked.delete(p);
      const log = p.output();
      const m = code === 75 ? ['', 'lock-timeout', 'NaN'] : /result=(\S+) elapsed=(\S+)/.exec(log);
      let serial = '';
      try {
        serial = readFileSync(serialFile, 'latin1').replace(ANSI_RE, '').replace(/\r/g, '');
      } catch {
        /* no log */
      }
      const elapsed = Number(m?.[2]);
      return {
        ok: code === 0 && m?.[1] === 'marker',
        result: m?.[1] ?? 'unknown',
        serial,
        serialFile,
        elapsedMs: Number.isFinite(elapsed) ? Math.round(elapsed * 1000) : Number.NaN,
        code: typeof code === 'number' ? code : null,
        log,
      };
    },
  };
  return lan;
}

/**
 * Bring a LAN up for the duration of a test: teardown is registered with `t.after` before
 * `up()` so a failed setup is cleaned too. Returns what `fn` returns.
 */
export async function withLan<T>(t: TestContext, opts: LanOptions, fn: (lan: Lan) => Promise<T>): Promise<T> {
  const lan = createLan(opts);
  t.after(() => lan.down());
  await lan.up();
  return fn(lan);
}
