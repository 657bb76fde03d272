/**
 * pxekit in `dhcp6.mode: boot-only` beside a site DHCPv6 server (issue 16): Kea (`kea-dhcp6`, memfile) hands
 * out the addresses from its own namespace on the LAN, pxekit hands out only the boot file, and OVMF boots over
 * IPv6 from the two together: PXE (IPv4 PXE switched off) and UEFI HTTP boot. radvd sends M=1; pxekit has no pool.
 *
 * What EDK2 does (NetworkPkg UefiPxeBcDxe/PxeBcDhcp6.c, Dhcp6Dxe/Dhcp6Io.c; docs/ipv6.md "boot-only"): Kea's
 * Advertise (address, no boot URL) is a "DhcpOnly" offer; pxekit's (no IA_NA, vendor class PXEClient, 59) a
 * "ProxyBinl" offer. The firmware requests the address from Kea, then asks pxekit again by unicast from that
 * address on port 4011 (a Request with pxekit's Server Identifier and no IA_NA), and boots the URL of that
 * Reply. HTTP boot files pxekit's answer (HTTPClient, an http:// URL, no IA_NA) as a "ProxyIpUri" offer and uses
 * its URL as it is (HttpBootDhcp6.c), with no second exchange. Debian's iPXE then takes its address and its
 * script URL from Kea: iPXE accepts only an Advertise with an address, so in boot-only mode the site server must
 * answer iPXE's user class (here a Kea client class).
 *
 * Evidence: the serial console (which boot option ran, the station address from Kea's pool, the marker the
 * script prints), pxekit's log (the proxy Advertise, the 4011 Reply, tftp.done / the GET from Kea's address, the
 * script GET) and Kea's lease file. Guests run one at a time under the suite's QEMU lock (about 3 min in all).
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { realnetAvailable, withLan, type Lan } from '../helpers/realnet.js';
import { tail, waitFor, type Tracked } from '../helpers/proc.js';
import { startPxekit, type LogLine, type PxekitProc } from './pxekit-proc.js';

const MARKER = 'PXEKIT-BOOT-ONLY6-OK';
const IPXE = '/usr/lib/ipxe';
const OVMF = '/usr/share/OVMF/OVMF_CODE_4M.fd';
const SERVER = 'fd77::1';
const KEA_ADDR = 'fd77::2';
const MACS = { pxe: '52:54:00:e6:0b:01', http: '52:54:00:e6:0b:02' } as const;
const skip =
  realnetAvailable(['qemu-system-x86_64', 'radvd', 'kea-dhcp6']) ??
  (existsSync(path.join(IPXE, 'ipxe.efi')) ? undefined : `Debian package ipxe not installed (${IPXE})`) ??
  (existsSync(OVMF) ? undefined : 'Debian package ovmf not installed');
/** Guest bounds (s), TCG on a loaded machine: PXE reached the script in 43 s, HTTP boot (which first waits out
 * HTTP over IPv4's DHCPv4, ~80 s) in 136 s. */
const BOUND = { pxe: 240, http: 420 } as const;
const LOCK_WAIT = 900;

/** pxekit: boot-only, no pool; ipxe.efi for the firmware. The script is a plain file: Kea points iPXE at it. */
function writePxekitConfig(dir: string): string {
  mkdirSync(path.join(dir, 'boot'));
  writeFileSync(
    path.join(dir, 'boot', 'boot.ipxe'),
    [
      '#!ipxe',
      'echo pxekit boot-only script, iPXE address ${net0/ip6}',
      `echo ${MARKER}`,
      'prompt --timeout 60000 done ||',
      '',
    ].join('\n'),
  );
  const config = {
    dhcp: { mode: 'off' },
    dhcp6: { mode: 'boot-only', serverAddress: SERVER },
    tftp: { port: 69, address6: SERVER },
    http: { port: 80 },
    log: { level: 'info' },
    plugins: [
      ['source-disk', { root: './boot' }],
      ['source-disk#ipxe', { root: IPXE, include: ['*.efi'], followSymlinks: 'any' }],
      ['ipxe-chain', { script: '/boot.ipxe', binaries: { uefi64: 'ipxe.efi' } }],
      ['boot-by-arch', { uefiHttp64: '/ipxe.efi' }],
    ],
  };
  const file = path.join(dir, 'pxekit.config.json');
  writeFileSync(file, JSON.stringify(config, null, 2));
  return file;
}

/** Kea: the site server. Addresses from fd77::100-1ff; for iPXE's user class, the script URL on pxekit. */
function writeKeaConfig(dir: string): string {
  const file = path.join(dir, 'kea-dhcp6.json');
  const config = {
    Dhcp6: {
      'interfaces-config': { interfaces: ['eth0'] },
      'server-id': { type: 'LL', persist: false },
      'lease-database': { type: 'memfile', persist: true, name: path.join(dir, 'kea6.leases'), 'lfc-interval': 0 },
      'preferred-lifetime': 600,
      'valid-lifetime': 1200,
      'client-classes': [
        {
          name: 'ipxe',
          test: "substring(option[15].hex,2,4) == 'iPXE'",
          'option-data': [{ name: 'bootfile-url', data: `http://[${SERVER}]/boot.ipxe` }],
        },
      ],
      subnet6: [{ subnet: 'fd77::/64', interface: 'eth0', pools: [{ pool: 'fd77::100-fd77::1ff' }] }],
      loggers: [{ name: 'kea-dhcp6', severity: 'INFO', output_options: [{ output: path.join(dir, 'kea6.log') }] }],
    },
  };
  writeFileSync(file, JSON.stringify(config, null, 2));
  return file;
}

const clientOf = (l: LogLine): string => String(l['client'] ?? '').replace(/%.*$/, '');
const inKeaPool = (a: string): boolean => /^fd77::1[0-9a-f]{2}$/.test(a);

/** One guest's boot and what pxekit and Kea saw of it. */
async function bootBesideKea(
  t: TestContext,
  lan: Lan,
  px: PxekitProc,
  dir: string,
  kea: Tracked,
  o: { firmware: 'uefi' | 'uefi-http'; mac: string; bound: number; qemuArgs?: string[] },
) {
  const since = px.mark();
  const boot = await lan.bootQemu({
    firmware: o.firmware,
    mac: o.mac,
    marker: MARKER,
    failMarker: 'PXE-E',
    timeoutSec: o.bound,
    lockWaitSec: LOCK_WAIT,
    ...(o.qemuArgs ? { qemuArgs: o.qemuArgs } : {}),
  });
  await new Promise((r) => setTimeout(r, 1500)); // pxekit's last log lines (bounded)
  const logs = since();
  const why = () =>
    `result=${boot.result}\n--- serial ---\n${tail(boot.serial, 3000)}\n--- pxekit ---\n` +
    tail(
      logs
        .filter((l) => /^(dhcp6|tftp|http\.request)/.test(String(l.event)))
        .map((l) => JSON.stringify(l))
        .join('\n'),
      5000,
    ) +
    `\n--- kea log ---\n${tail(readIfExists(path.join(dir, 'kea6.log')), 2000)}` +
    `\n--- kea output ---\n${tail(kea.output(), 1000)}`;
  t.diagnostic(`${o.firmware} beside Kea: ${boot.result} after ${(boot.elapsedMs / 1000).toFixed(1)} s`);
  assert.ok(boot.ok, `no marker: ${why()}`);
  const mine = logs.filter((l) => l.mac === o.mac);
  const gets = (p: string) =>
    logs.filter((l) => l.event === 'http.request' && l['path'] === p && l['method'] === 'GET' && l['status'] === 200);
  // iPXE: its address and its script URL come from Kea (a client class on user class iPXE); the script from pxekit.
  const script = gets('/boot.ipxe');
  assert.ok(script.length > 0, `iPXE did not GET the script Kea pointed it at: ${why()}`);
  assert.ok(inKeaPool(clientOf(script[0]!)), "iPXE's address is from Kea");
  return { boot, logs, mine, gets, why, keaLeases: () => readIfExists(path.join(dir, 'kea6.leases')) };
}

test(
  'UEFI firmware over IPv6 with addresses from Kea and the boot file from pxekit in boot-only mode',
  { skip, timeout: (BOUND.pxe + BOUND.http + 2 * LOCK_WAIT + 120) * 1000 },
  async (t) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'pxk-e2eb6-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const pxekitConfig = writePxekitConfig(dir);
    const keaConfig = writeKeaConfig(dir);
    await withLan(
      t,
      { name: 'e2eb6', taps: 1, ipv6: true, ra: { prefix: 'fd77::/64', managed: true } },
      async (lan) => {
        const keaNs = await lan.addHost('kea', `${KEA_ADDR}/64`);
        // Kea opens its sockets on eth0's link-local address: wait until duplicate address detection is done.
        await waitFor(
          async () => {
            const r = await lan.execIn(keaNs, 'ip', ['-6', 'addr', 'show', 'dev', 'eth0'], { timeoutMs: 5_000 });
            return /fe80::/.test(r.stdout) && !/tentative/.test(r.stdout);
          },
          15_000,
          'the Kea host to have its addresses',
        );
        const kea = lan.spawnIn(keaNs, 'kea-dhcp6', ['-c', keaConfig], {
          env: { KEA_PIDFILE_DIR: dir, KEA_LOCKFILE_DIR: dir },
        });
        await lan.waitForUdpListen(keaNs, 547, 20_000);
        const px = await startPxekit(lan, pxekitConfig);
        const listening = px.lines.find((l) => l.event === 'dhcp6.listening');
        assert.equal(listening?.['pxePort'], 4011, `pxekit's boot-server socket: ${tail(px.proc.output(), 2000)}`);

        await t.test(
          'OVMF PXE (IPv4 PXE off): address from Kea, boot URL from the proxy Advertise and the 4011 exchange',
          { timeout: (BOUND.pxe + LOCK_WAIT + 40) * 1000 },
          async (st) => {
            const e = await bootBesideKea(st, lan, px, dir, kea, {
              firmware: 'uefi',
              mac: MACS.pxe,
              bound: BOUND.pxe,
              qemuArgs: ['-fw_cfg', 'name=opt/org.tianocore/IPv4PXESupport,string=n'],
            });
            assert.ok(e.boot.serial.includes('Start PXE over IPv6'), `PXE over IPv6 did not run: ${e.why()}`);
            const station = /Station IP address is ([0-9A-F:]+)/i.exec(e.boot.serial)?.[1];
            assert.ok(station, `no station address on the console: ${e.why()}`);
            const stationAddr = compress(station);
            assert.ok(inKeaPool(stationAddr), `the firmware's address ${stationAddr} comes from Kea's pool`);
            assert.ok(e.keaLeases().includes(stationAddr), `Kea's lease file holds ${stationAddr}`);
            const url = `tftp://[${SERVER}]/ipxe.efi`;
            const adv = e.mine.filter((l) => l.event === 'dhcp6.advertise' && l['bootFile'] === url);
            assert.ok(adv.length > 0, `pxekit's proxy Advertise with ${url}: ${e.why()}`);
            assert.deepEqual(adv[0]!['addresses'], [], 'boot-only: no address from pxekit');
            const boot4011 = e.mine.filter((l) => l.event === 'dhcp6.reply' && l['bootServer'] === true);
            assert.ok(boot4011.length > 0, `the firmware's boot-server Request on port 4011 was answered: ${e.why()}`);
            assert.equal(boot4011[0]!['bootFile'], url);
            const efi = e.logs.filter((l) => l.event === 'tftp.done' && String(l['path']).endsWith('ipxe.efi'));
            assert.ok(efi.length > 0, `EDK2 fetched no ipxe.efi over TFTP: ${e.why()}`);
            assert.equal(clientOf(efi[0]!), stationAddr, "TFTP over IPv6 from Kea's address");
            st.diagnostic(`firmware ${stationAddr} (Kea); boot URL from pxekit's 4011 Reply; ipxe.efi over TFTP`);
          },
        );

        await t.test(
          'OVMF HTTP boot: address from Kea, HTTP URL from the proxy Advertise (HTTPClient, no second exchange)',
          { timeout: (BOUND.http + LOCK_WAIT + 40) * 1000 },
          async (st) => {
            const e = await bootBesideKea(st, lan, px, dir, kea, {
              firmware: 'uefi-http',
              mac: MACS.http,
              bound: BOUND.http,
            });
            assert.ok(
              e.boot.serial.includes('Start HTTP Boot over IPv6'),
              `HTTP boot over IPv6 did not run: ${e.why()}`,
            );
            const adv = e.mine.filter((l) => l.event === 'dhcp6.advertise' && l['arch'] === 16);
            assert.ok(adv.length > 0, `pxekit's proxy Advertise to the HTTP client: ${e.why()}`);
            assert.match(String(adv[0]!['bootFile']), /^http:\/\/\[fd77::1\](:80)?\/ipxe\.efi$/);
            assert.equal(
              e.mine.filter((l) => l.event === 'dhcp6.reply' && l['bootServer'] === true && l['arch'] === 16).length,
              0,
              'HTTP boot takes the proxy offer as it is: no 4011 exchange',
            );
            const efi = e.gets('/ipxe.efi');
            assert.ok(efi.length > 0, `the firmware did not GET ipxe.efi: ${e.why()}`);
            assert.ok(inKeaPool(clientOf(efi[0]!)), "HTTP over IPv6 from Kea's address");
            st.diagnostic(`firmware ${clientOf(efi[0]!)} (Kea) GET /ipxe.efi from pxekit`);
          },
        );
      },
    );
  },
);

function readIfExists(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** `FD77:0:0:0:0:0:0:10A` (EDK2's console) → `fd77::10a`. */
function compress(addr: string): string {
  const groups = addr
    .toLowerCase()
    .split(':')
    .map((g) => g.replace(/^0+(?=.)/, ''));
  const joined = groups.join(':');
  return joined.replace(/(^|:)0(:0)+(:|$)/, '::').replace(/:{3,}/, '::');
}
