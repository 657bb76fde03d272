/**
 * pxekit in `dhcp6.mode: boot-only` beside a site DHCPv6 server (issue 16): Kea (`kea-dhcp6`, memfile) hands
 * out the addresses from its own namespace on the LAN, pxekit hands out only the boot file, and OVMF with IPv4
 * PXE switched off PXE-boots over IPv6 from the two together. radvd sends the M flag; pxekit has no pool.
 *
 * What EDK2 does (NetworkPkg UefiPxeBcDxe/PxeBcDhcp6.c, Dhcp6Dxe/Dhcp6Io.c; docs/ipv6.md "boot-only"): Kea's
 * Advertise (address, no boot URL) is a "DhcpOnly" offer; pxekit's (no IA_NA, vendor class PXEClient, 59) a
 * "ProxyBinl" offer. The firmware requests the address from Kea, then asks pxekit again by unicast from that
 * address on port 4011 (a Request with pxekit's Server Identifier and no IA_NA), and boots the URL of that
 * Reply. Debian's iPXE then takes its address and its script URL from Kea: iPXE accepts only an Advertise with
 * an address, so in boot-only mode the site server must answer iPXE's user class (here a Kea client class).
 *
 * Evidence: the serial console (PXE over IPv6, the station address from Kea's pool, the marker the script
 * prints), pxekit's log (the proxy Advertise, the 4011 Reply, tftp.done from Kea's address, the script GET)
 * and Kea's lease file. The guest runs under the suite's QEMU lock.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { realnetAvailable, withLan } from '../helpers/realnet.js';
import { tail, waitFor } from '../helpers/proc.js';
import { startPxekit, type LogLine } from './pxekit-proc.js';

const MARKER = 'PXEKIT-BOOT-ONLY6-OK';
const IPXE = '/usr/lib/ipxe';
const OVMF = '/usr/share/OVMF/OVMF_CODE_4M.fd';
const SERVER = 'fd77::1';
const KEA_ADDR = 'fd77::2';
const MAC = '52:54:00:e6:0b:01';
const skip =
  realnetAvailable(['qemu-system-x86_64', 'radvd', 'kea-dhcp6']) ??
  (existsSync(path.join(IPXE, 'ipxe.efi')) ? undefined : `Debian package ipxe not installed (${IPXE})`) ??
  (existsSync(OVMF) ? undefined : 'Debian package ovmf not installed');
/** Guest bound (s): OVMF's PXE over IPv6 took 80-90 s to the script under TCG on this loaded machine. */
const BOUND = 240;
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

test(
  'OVMF PXE over IPv6 with addresses from Kea and the boot file from pxekit in boot-only mode (4011 exchange)',
  { skip, timeout: (BOUND + LOCK_WAIT + 120) * 1000 },
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

        const since = px.mark();
        const boot = await lan.bootQemu({
          firmware: 'uefi',
          mac: MAC,
          marker: MARKER,
          failMarker: 'PXE-E',
          timeoutSec: BOUND,
          lockWaitSec: LOCK_WAIT,
          qemuArgs: ['-fw_cfg', 'name=opt/org.tianocore/IPv4PXESupport,string=n'],
        });
        await new Promise((r) => setTimeout(r, 1500)); // pxekit's last log lines (bounded)
        const logs = since();
        const keaLeases = readIfExists(path.join(dir, 'kea6.leases'));
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
        t.diagnostic(`OVMF PXEv6 beside Kea: ${boot.result} after ${(boot.elapsedMs / 1000).toFixed(1)} s`);

        assert.ok(boot.ok, `no marker: ${why()}`);
        assert.ok(boot.serial.includes('Start PXE over IPv6'), `PXE over IPv6 did not run: ${why()}`);
        const station = /Station IP address is ([0-9A-F:]+)/i.exec(boot.serial)?.[1];
        assert.ok(station, `no station address on the console: ${why()}`);
        const stationAddr = compress(station);
        assert.ok(inKeaPool(stationAddr), `the firmware's address ${stationAddr} comes from Kea's pool`);
        assert.ok(keaLeases.includes(stationAddr), `Kea's lease file holds ${stationAddr}: ${keaLeases}`);

        const mine = logs.filter((l) => l.mac === MAC);
        const url = `tftp://[${SERVER}]/ipxe.efi`;
        const adv = mine.filter((l) => l.event === 'dhcp6.advertise' && l['bootFile'] === url);
        assert.ok(adv.length > 0, `pxekit's proxy Advertise with ${url}: ${why()}`);
        assert.deepEqual(adv[0]!['addresses'], [], 'boot-only: no address from pxekit');
        const boot4011 = mine.filter((l) => l.event === 'dhcp6.reply' && l['bootServer'] === true);
        assert.ok(boot4011.length > 0, `the firmware's boot-server Request on port 4011 was answered: ${why()}`);
        assert.equal(boot4011[0]!['bootFile'], url);

        const efi = logs.filter((l) => l.event === 'tftp.done' && String(l['path']).endsWith('ipxe.efi'));
        assert.ok(efi.length > 0, `EDK2 fetched no ipxe.efi over TFTP: ${why()}`);
        assert.equal(clientOf(efi[0]!), stationAddr, "TFTP over IPv6 from Kea's address");
        const gets = logs.filter(
          (l) =>
            l.event === 'http.request' && l['path'] === '/boot.ipxe' && l['method'] === 'GET' && l['status'] === 200,
        );
        assert.ok(gets.length > 0, `iPXE did not GET the script Kea pointed it at: ${why()}`);
        assert.ok(inKeaPool(clientOf(gets[0]!)), "iPXE's address is from Kea too");
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
