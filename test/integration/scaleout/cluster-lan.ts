/**
 * A LAN with several pxekit instances for the scale-out tests and the bench: redis-server in the
 * LAN's server namespace (the "Redis host"), each pxekit instance in its own namespace on the same
 * bridge (`addHost`), started with the CLI (`pxekit start --config`) and its JSON log in a file.
 * Every process is tracked by the LAN and stopped by `lan.down()`; `kill9()` signals one instance's
 * own pid (a crash, no clean leave).
 */
import type { Lan } from '../../helpers/realnet.js';
import type { RunResult, Tracked } from '../../helpers/proc.js';
import { spawnPxekit } from '../dhcp/helpers.js';

export const REDIS_PORT = 6390;
export const FULL_PREFIX = 'sf:';

/**
 * A full-mode instance on lease-redis (+ dhcp-cluster unless `cluster: false`). Generous timeouts:
 * these tests check correctness on a loaded 2-core machine, not latency.
 */
export function fullConfig(
  redisUrl: string,
  ip: string,
  id: string,
  extra: { cluster?: boolean; level?: string; peers?: object; commandTimeoutMs?: number; plugins?: unknown[] } = {},
): object {
  const redis = { url: redisUrl, keyPrefix: FULL_PREFIX, commandTimeoutMs: extra.commandTimeoutMs ?? 2000 };
  return {
    dhcp: {
      mode: 'full',
      serverAddress: ip,
      pools: [{ subnet: '10.77.0.0/16', range: ['10.77.1.0', '10.77.40.255'], leaseTime: 3600 }],
    },
    tftp: { enabled: false },
    http: { enabled: false },
    log: { level: extra.level ?? 'info' },
    hooks: { timeoutMs: 5000 },
    plugins: [
      ['lease-redis', { redis }],
      ...(extra.cluster === false
        ? []
        : [['dhcp-cluster', { redis, instanceId: id, ...(extra.peers ? { peers: extra.peers } : {}) }]]),
      ...(extra.plugins ?? []),
    ],
  };
}

export interface Instance {
  name: string;
  ns: string;
  ip: string;
  logFile: string;
  proc: Tracked;
  lines(): Record<string, unknown>[];
  events(event: string): Record<string, unknown>[];
  kill9(): Promise<void>;
  /** Runs a command in the instance's namespace (bounded: 15 s). */
  exec(cmd: string, args: string[]): Promise<RunResult>;
}

export interface LanRedis {
  url: string;
  cli(args: string[]): Promise<string>;
  /** SIGKILL (an outage); waits for the exit. */
  stop(): Promise<void>;
  /** Starts it again on the same address and port (with its AOF, if `aof`). */
  start(): Promise<void>;
  /** Sends a signal to the running redis-server (SIGSTOP: hung; SIGCONT: resumed). */
  signal(sig: NodeJS.Signals): Promise<void>;
}

/** Starts redis-server in the LAN's server namespace on `lan.srvAddr:REDIS_PORT`. */
export async function startLanRedis(lan: Lan, dir: string, opts: { aof?: boolean } = {}): Promise<LanRedis> {
  const args = [
    '--port',
    String(REDIS_PORT),
    '--bind',
    lan.srvAddr,
    '--dir',
    dir,
    '--save',
    '',
    '--appendonly',
    opts.aof ? 'yes' : 'no',
    '--appendfsync',
    'always',
    '--protected-mode',
    'no',
  ];
  let proc: Tracked | undefined;
  const start = async () => {
    proc = lan.spawnIn(lan.srvNs, '/usr/bin/redis-server', args);
    await lan.waitForTcpListen(lan.srvNs, REDIS_PORT, 15_000);
  };
  await start();
  return {
    url: `redis://${lan.srvAddr}:${REDIS_PORT}`,
    cli: async (cliArgs) => {
      const r = await lan.execIn(
        lan.srvNs,
        '/usr/bin/redis-cli',
        ['-h', lan.srvAddr, '-p', String(REDIS_PORT), ...cliArgs],
        { timeoutMs: 30_000 },
      );
      if (r.code !== 0) throw new Error(`redis-cli ${cliArgs.join(' ')}: ${r.stderr}`);
      return r.stdout;
    },
    stop: async () => {
      const p = proc;
      if (p?.pid !== undefined && !p.exited()) process.kill(p.pid, 'SIGKILL');
      await p?.exitPromise;
    },
    start,
    signal: async (sig) => {
      if (proc?.pid !== undefined && !proc.exited()) process.kill(proc.pid, sig);
    },
  };
}

/** Every `ip → mac` lease record under `prefix` (one Lua call, for the end-of-test checks). */
export async function leaseRecords(
  cli: (args: string[]) => Promise<string>,
  prefix: string,
): Promise<Map<string, { mac: string; state: string }>> {
  const lua =
    "local out = {} for _, k in ipairs(redis.call('KEYS', ARGV[1])) do local r = " +
    "redis.call('HMGET', k, 'ip', 'mac', 'state') out[#out + 1] = r[1] .. ' ' .. r[2] .. ' ' " +
    '.. r[3] end return out';
  const text = await cli(['--no-raw', 'EVAL', lua, '0', `${prefix}lease:ip:*`]);
  const map = new Map<string, { mac: string; state: string }>();
  for (const m of text.matchAll(/"(\d+\.\d+\.\d+\.\d+) ([0-9a-f:]*) (\w+)"/g))
    map.set(m[1]!, { mac: m[2]!, state: m[3]! });
  return map;
}

/** Starts one pxekit instance in namespace `<lan>-<name>` with address `cidr`, and waits for UDP 67. */
export async function startInstance(
  lan: Lan,
  dir: string,
  name: string,
  cidr: string,
  config: object,
): Promise<Instance> {
  const ns = await lan.addHost(name, cidr);
  const px = await spawnPxekit(lan, ns, dir, name, config);
  const { proc } = px;
  return {
    name,
    ns,
    ip: cidr.split('/')[0]!,
    logFile: px.logFile,
    proc,
    lines: px.lines,
    events: px.events,
    exec: (cmd, args) => lan.execIn(ns, cmd, args, { timeoutMs: 15_000 }),
    kill9: async () => {
      if (proc.pid !== undefined && !proc.exited()) process.kill(proc.pid, 'SIGKILL');
      await proc.exitPromise;
    },
  };
}

/** Polls until every instance logged a `cluster.members` line listing `n` members (bounded). */
export async function waitForMembers(instances: Instance[], n: number, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  const ok = () =>
    instances.every((i) => {
      const last = i.events('cluster.members').at(-1);
      return Array.isArray(last?.members) && last.members.length === n;
    });
  while (!ok()) {
    if (Date.now() > deadline) {
      const views = instances.map((i) => `${i.name}=${JSON.stringify(i.events('cluster.members').at(-1)?.members)}`);
      throw new Error(`instances did not agree on ${n} members in ${ms} ms: ${views.join(' ')}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
