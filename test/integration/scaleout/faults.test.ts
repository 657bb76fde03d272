/**
 * Scale-out under real faults (issue 20): two full-mode instances (lease-redis + dhcp-cluster with
 * the peer heartbeat on the LAN's broadcast address) and redis-server (AOF) in namespaces on one
 * bridge; perfdhcp loads them the whole time (250 exchanges/s over 4,000 MACs: new clients and more
 * and more known ones) and tcpdump on the client side records every answer. Faults, one after the
 * other: instance b cut from Redis only (a neighbour entry for Redis's address pointing at a MAC
 * nobody has) and healed; Redis slowed (+200 ms per reply, through delay-proxy.ts); Redis hung
 * (SIGSTOP) and resumed; Redis killed and restarted on its AOF. From the capture: after the
 * first second of each fault or recovery no exchange is answered by both instances; no address is
 * ACKed to two MACs; while b is cut it answers nothing (its peer answers everyone); 3 s after the heal
 * each client has one answerer per second; known clients are still answered while Redis is down for
 * both. From the logs: per instance per outage one warning down and one up, nothing else at warn or
 * above, no stack trace; the `redis.up` lines count the requests dropped or served from local state.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { realnetAvailable, withLan } from '../../helpers/realnet.js';
import { sleep } from '../../helpers/proc.js';
import type { ClusterView } from 'pxekit/plugins/dhcp-cluster';
import { tmp } from '../dhcp/helpers.js';
import { addressesToTwoMacs, doubleAnswers, readAnswers, type Answer } from './answers.js';
import { fullConfig, REDIS_PORT, startInstance, startLanRedis, waitForMembers, type Instance } from './cluster-lan.js';

const PROXY_PORT = 6391;
const OBSERVE_PORT = 9464;

const skip = realnetAvailable(['perfdhcp', 'redis-server', 'redis-cli', 'tcpdump']);
const A = '10.77.0.11';
const B = '10.77.0.12';
// Each instance sends its peer heartbeat to the other's address (unicast: a neighbour entry can cut it).
// A peer unheard for 3 s is gone (default 2 s): this test shares two cores with other jobs, and an
// instance catching up after a Redis hang has been seen silent for 2 s there, its peer then taking
// all its clients. A stall longer than deadAfterMs cannot be told from a death.
const peersOf = (other: string) => ({
  key: 'faults-test-shared-key',
  addresses: [other],
  port: 6767,
  deadAfterMs: 3000,
});

test(
  'faults: b cut from Redis and healed, Redis slowed, hung, restarted: one answer per exchange',
  { skip, timeout: 240_000 },
  async (t) => {
    await withLan(t, { name: 'sfault', taps: 0, srvIp: '10.77.0.1/16', cliIp: '10.77.0.2/16' }, async (lan) => {
      const dir = tmp('sfault');
      let passed = false;
      // Kept when the test fails (the logs and the capture explain it).
      t.after(() => (passed ? rmSync(dir, { recursive: true, force: true }) : t.diagnostic(`kept ${dir}`)));
      const redis = await startLanRedis(lan, dir, { aof: true });
      // The instances reach Redis through a proxy that can delay its replies (the slow-Redis fault).
      const proxy = lan.spawnIn(lan.srvNs, process.execPath, [
        '--import',
        'tsx',
        path.join(import.meta.dirname, 'delay-proxy.ts'),
        lan.srvAddr,
        String(PROXY_PORT),
        lan.srvAddr,
        String(REDIS_PORT),
        '200',
      ]);
      await lan.waitForTcpListen(lan.srvNs, PROXY_PORT, 15_000);
      const url = `redis://${lan.srvAddr}:${PROXY_PORT}`;
      // Metrics and the status page on their own port inside each instance's namespace (read with curl).
      const observe = [
        ['metrics', { port: OBSERVE_PORT }],
        ['status', { port: OBSERVE_PORT + 1 }],
      ];
      const cfg = (ip: string, id: string) =>
        fullConfig(url, ip, id, {
          peers: peersOf(ip === A ? B : A),
          // Above the product's 1 s default: on a loaded CI machine Redis (fsync on every write) or the
          // instance's event loop stalls now and then for most of a second, which would be an outage.
          commandTimeoutMs: 1500,
          level: 'info',
          plugins: observe,
        });
      const a = await startInstance(lan, dir, 'a', `${A}/16`, cfg(A, 'a'));
      const b = await startInstance(lan, dir, 'b', `${B}/16`, cfg(B, 'b'));
      await waitForMembers([a, b], 2, 15_000);

      const pcap = path.join(dir, 'client.pcap');
      // On the client's side of the bridge: the lab's client namespace holds the bridge, and answers to
      // the client's address arrive on br0 (one copy per answer).
      const dump = lan.spawnIn(lan.cliNs, 'tcpdump', [
        '-i',
        'br0',
        '-U',
        '-n',
        '-s',
        '600',
        '-w',
        pcap,
        'udp src port 67',
      ]);
      await sleep(1000);
      // 250 exchanges/s over 4,000 MACs for the whole run: mostly new clients at first, then more and
      // more known ones (about 1 in 3 known after 6 s, 19 in 20 by the Redis kill).
      const perf = lan.spawnIn(lan.cliNs, 'perfdhcp', [
        '-4',
        '-l',
        'eth0',
        '-r',
        '250',
        '-R',
        '4000',
        '-b',
        'mac=00:0c:cc:00:00:00',
        '-p',
        '75',
      ]);
      const marks: Record<string, number> = {};
      const mark = (what: string) => {
        marks[what] = Date.now();
        t.diagnostic(`${what} at +${marks[what] - marks['start']!} ms (${marks[what]})`);
      };
      mark('start');
      await sleep(6000);

      // b cut from Redis only: its frames to Redis's address go to a MAC nobody has.
      const neigh = (args: string[]) => lan.execIn(b.ns, 'ip', ['neigh', ...args], { timeoutMs: 10_000 });
      mark('cut');
      assert.equal(
        (await neigh(['replace', lan.srvAddr, 'lladdr', '02:00:de:ad:00:01', 'dev', 'eth0', 'nud', 'permanent'])).code,
        0,
      );
      await sleep(6000);
      const [aCut, bCut] = [await scrape(a), await scrape(b)];
      await sleep(2000);
      mark('heal');
      await neigh(['del', lan.srvAddr, 'dev', 'eth0']);
      await sleep(6000);

      // The peers cut from each other (both on Redis): each one's frames to the other go nowhere.
      const cutPeer = (i: Instance, other: string, on: boolean) =>
        i.exec('ip', [
          'neigh',
          ...(on ? ['replace', other, 'lladdr', '02:00:de:ad:00:02', 'nud', 'permanent'] : ['del', other]),
          'dev',
          'eth0',
        ]);
      mark('pcut');
      await Promise.all([cutPeer(a, B, true), cutPeer(b, A, true)]);
      await sleep(4500);
      const [aPcut, bPcut] = [await scrape(a), await scrape(b)];
      await sleep(500);
      mark('pheal');
      await Promise.all([cutPeer(a, B, false), cutPeer(b, A, false)]);
      await sleep(3000);

      // Redis slowed: every reply 200 ms late. Latency, not an outage: both keep answering.
      mark('slow');
      if (proxy.pid !== undefined) process.kill(proxy.pid, 'SIGUSR1');
      await sleep(5000);
      mark('fast');
      if (proxy.pid !== undefined) process.kill(proxy.pid, 'SIGUSR2');
      await sleep(2000);

      // Redis hung, then resumed.
      mark('stop');
      await redis.signal('SIGSTOP');
      await sleep(6000);
      mark('cont');
      await redis.signal('SIGCONT');
      await sleep(5000);

      // Redis killed, then restarted on its AOF.
      mark('kill');
      await redis.stop();
      await sleep(4000);
      const aDown1 = await scrape(a);
      await sleep(2000);
      const [aDown2, bDown] = [await scrape(a), await scrape(b)];
      const bStatusDown = await statusApi(b);
      await sleep(1000);
      mark('restart');
      await redis.start();
      // The recovery is when Redis accepts connections again (after reading its AOF): about a second.
      mark('listening');
      await sleep(5000);
      mark('end');
      const [aEnd, bEnd] = [await scrape(a), await scrape(b)];
      if (perf.pid !== undefined && !perf.exited()) process.kill(perf.pid, 'SIGINT');
      await sleep(500);
      if (dump.pid !== undefined && !dump.exited()) process.kill(dump.pid, 'SIGINT');
      await dump.exitPromise;

      const answers = readAnswers(pcap);
      const m = (k: string) => marks[k]!;
      // The marks in order: each fault and each recovery starts a phase.
      const phases = [
        'start',
        'cut',
        'heal',
        'pcut',
        'pheal',
        'slow',
        'fast',
        'stop',
        'cont',
        'kill',
        'restart',
      ] as const;
      const win = (from: number, to: number) => answers.filter((x) => x.at >= from && x.at < to);
      const by = (list: Answer[], ip: string) => list.filter((x) => x.server === ip).length;
      for (const [from, to] of [
        ['start', 'cut'],
        ['cut', 'heal'],
        ['heal', 'pcut'],
        ['pcut', 'pheal'],
        ['pheal', 'slow'],
        ['slow', 'fast'],
        ['fast', 'stop'],
        ['stop', 'cont'],
        ['cont', 'kill'],
        ['kill', 'restart'],
        ['restart', 'end'],
      ] as const) {
        const w = win(m(from), m(to));
        t.diagnostic(`${from}..${to}: ${w.length} answers, a ${by(w, A)}, b ${by(w, B)}`);
      }
      // One second of grace after each fault and each recovery.
      const grace = [...phases.slice(1), 'listening'].map((k): [number, number] => [m(k), m(k) + 1000]);
      const doubles = doubleAnswers(answers, grace);
      const phaseAt = (at: number) => {
        const p =
          Object.keys(marks)
            .filter((k) => marks[k]! <= at)
            .at(-1) ?? 'before';
        return `${p}+${Math.round(at - marks[p]!)}ms`;
      };
      const inGrace = doubleAnswers(answers, []);
      t.diagnostic(
        `exchanges answered by both, grace seconds included: ${inGrace.length} (${inGrace.map((d) => phaseAt(d[0]!.at)).join(', ')})`,
      );
      assert.deepEqual(
        doubles
          .slice(0, 5)
          .map((d) => d.map((x) => `${phaseAt(x.at)} ${x.server} ${x.mac} xid ${x.xid} type ${x.type}`)),
        [],
        `${doubles.length} exchanges answered by both instances`,
      );
      assert.deepEqual(addressesToTwoMacs(answers), []);

      // b cut: b answers nothing after the first second; a answers.
      const cut = win(m('cut') + 1000, m('heal'));
      assert.equal(by(cut, B), 0, 'the cut instance answers no client');
      assert.ok(by(cut, A) > 100, `a answers during the cut: ${by(cut, A)}`);
      // Healed: from 3 s on, one answerer per client per second; b answers again.
      const healed = win(m('heal') + 3000, m('pcut'));
      const perSecond = new Map<string, Set<string>>();
      for (const x of healed) {
        const k = `${x.mac}/${Math.floor(x.at / 1000)}`;
        perSecond.set(k, (perSecond.get(k) ?? new Set()).add(x.server));
      }
      assert.ok(
        [...perSecond.values()].every((s) => s.size === 1),
        'one answerer per client per second after the heal',
      );
      assert.ok(by(healed, B) > 0, 'b answers its clients again after the heal');
      // Peers cut from each other, both on Redis: the Redis view rules, both answer their share.
      const pcut = win(m('pcut') + 1000, m('pheal'));
      assert.ok(
        by(pcut, A) > 100 && by(pcut, B) > 100,
        `both answer with the peers cut: a ${by(pcut, A)}, b ${by(pcut, B)}`,
      );
      for (const v of [aPcut, bPcut]) {
        assert.equal(v('pxekit_cluster_peers{redis="true"}') + v('pxekit_cluster_peers{redis="false"}'), 0);
        assert.equal(v('pxekit_cluster_mode{mode="redis"}'), 1);
        assert.equal(v('pxekit_cluster_members'), 2);
      }
      // Slowed: both still answer.
      const slow = win(m('slow') + 1000, m('fast'));
      assert.ok(by(slow, A) > 0 && by(slow, B) > 0, 'both answer while Redis is slow');
      // Redis down for both (hung, then killed): known clients are still answered (ACKs from local state).
      for (const [from, to] of [
        ['stop', 'cont'],
        ['kill', 'restart'],
      ] as const) {
        const acks = win(m(from) + 1000, m(to)).filter((x) => x.type === 5);
        assert.ok(
          acks.length > 50,
          `known clients ACKed while Redis is ${from === 'stop' ? 'hung' : 'down'}: ${acks.length}`,
        );
      }

      // Metrics, per instance. b cut: Redis down for b only, b defers (answers no client) while a splits
      // the clients with nobody else; b counts what it dropped.
      assert.equal(bCut('pxekit_redis_up'), 0);
      assert.equal(bCut('pxekit_cluster_mode{mode="defer"}'), 1);
      assert.equal(bCut('pxekit_cluster_members'), 0);
      assert.ok(bCut('pxekit_redis_outage_requests_total{outcome="dropped"}') > 100, 'b counts the requests it drops');
      assert.equal(aCut('pxekit_redis_up'), 1);
      assert.equal(aCut('pxekit_cluster_mode{mode="redis"}'), 1);
      assert.equal(aCut('pxekit_cluster_members'), 1);
      assert.equal(aCut('pxekit_cluster_peers{redis="false"}'), 1, 'a hears b, which says it lost Redis');
      // Redis down for both: both in fallback, splitting with each other; known clients served from
      // local state, counted while it lasts.
      for (const v of [aDown2, bDown]) {
        assert.equal(v('pxekit_redis_up'), 0);
        assert.equal(v('pxekit_cluster_mode{mode="fallback"}'), 1);
        assert.equal(v('pxekit_cluster_members'), 2);
      }
      const served = (v: Metrics) => v('pxekit_redis_outage_requests_total{outcome="served_from_cache"}');
      assert.ok(served(aDown2) > served(aDown1), `a's served_from_cache grows during the outage`);
      assert.equal(bStatusDown.cluster?.mode, 'fallback');
      assert.equal(bStatusDown.cluster?.link.up, false);
      assert.deepEqual(
        bStatusDown.cluster?.peers.map((p) => [p.id, p.redis]),
        [['a', false]],
        'the status page shows the peers heard',
      );
      // At the end: both on Redis again, each counted its own outages (b one more: the cut).
      for (const [v, n] of [
        [aEnd, 2],
        [bEnd, 3],
      ] as const) {
        assert.equal(v('pxekit_redis_up'), 1);
        assert.equal(v('pxekit_cluster_mode{mode="redis"}'), 1);
        assert.equal(v('pxekit_redis_outages_total'), n);
      }

      // Logs: each outage warned once going down and once coming back, in the phase it belongs to.
      const phaseOf = (time: number) => phases.filter((p) => m(p) <= time).at(-1) ?? 'before';
      const outages = ['stop:redis.down', 'cont:redis.up', 'kill:redis.down', 'restart:redis.up'];
      checkQuietLogs(a, phaseOf, m('end'), outages);
      checkQuietLogs(b, phaseOf, m('end'), ['cut:redis.down', 'heal:redis.up', ...outages]);
      const cutUp = b.events('redis.up').find((l) => phaseOf(Number(l.time)) === 'heal');
      assert.ok(Number(cutUp?.dropped) > 0, `b counted the requests it left to a while cut: ${JSON.stringify(cutUp)}`);
      for (const i of [a, b]) {
        const up = i.events('redis.up').find((l) => phaseOf(Number(l.time)) === 'restart');
        assert.ok(Number(up?.servedFromCache) > 0, `${i.name} counted known clients served while Redis was down`);
      }
      passed = true;
    });
  },
);

type Metrics = (series: string) => number;

/** One scrape of an instance's /metrics (curl in its namespace): the value of a series, NaN if absent. */
async function scrape(i: Instance): Promise<Metrics> {
  const r = await i.exec('curl', ['-sf', '-m', '5', `http://127.0.0.1:${OBSERVE_PORT}/metrics`]);
  assert.equal(r.code, 0, `${i.name}: /metrics: ${r.stderr}`);
  const values = new Map<string, number>();
  for (const line of r.stdout.split('\n')) {
    const m = /^(\S+) (\S+)$/.exec(line);
    if (m) values.set(m[1]!, Number(m[2]));
  }
  return (series) => values.get(series) ?? Number.NaN;
}

/** The status page's JSON snapshot of an instance (curl in its namespace). */
async function statusApi(i: Instance): Promise<{ cluster?: ClusterView }> {
  const r = await i.exec('curl', ['-sf', '-m', '5', `http://127.0.0.1:${OBSERVE_PORT + 1}/status/api`]);
  assert.equal(r.code, 0, `${i.name}: /status/api: ${r.stderr}`);
  return (JSON.parse(r.stdout) as { server: { cluster?: ClusterView } }).server;
}

/**
 * Every warning or error an instance logged during the run (before `end`), as `phase:event`, is
 * exactly `expected`: one `redis.down` in the phase of each fault and one `redis.up` in the phase of
 * its recovery — no other warning or error, no line per packet — and no line carries a stack trace.
 */
function checkQuietLogs(i: Instance, phaseOf: (time: number) => string, end: number, expected: string[]): void {
  const lines = i.lines().filter((l) => Number(l.time) < end);
  const loud = lines
    .filter((l) => Number(l.level) >= 40)
    .map(
      (l) =>
        `${phaseOf(Number(l.time))}:${String(l.event)}${l.event === 'redis.down' || l.event === 'redis.up' ? '' : ` (${String(l.msg)})`}`,
    );
  assert.deepEqual(loud.slice(0, 20), expected, `${i.name}: warnings and errors, by phase`);
  const stacks = lines.filter((l) => JSON.stringify(l).includes('"stack"'));
  assert.deepEqual(stacks.slice(0, 3), [], `${i.name}: a stack trace was logged`);
}
