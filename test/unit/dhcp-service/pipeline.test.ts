/**
 * The per-packet pipeline: plugin failures and malformed packets drop one packet and never the
 * server; receive/admit/reply hooks; boot decisions recorded in the session.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { definePlugin } from '../../../core/plugin.js';
import { encode } from '../../../core/dhcp/codec.js';
import { getOption, setOption } from '../../../core/dhcp/option-values.js';
import { DHCPDISCOVER, BOOTREPLY } from '../../../core/dhcp/packet.js';
import { failingClassify, makeServer, request, testBoot } from './helpers.js';

const local = { address: '10.99.0.1', interface: 'eth0' };
const pxe = { 60: 'PXEClient:Arch:00007:UNDI:003000', 93: [7] };
const proxyCfg = { dhcp: { mode: 'proxy' as const, serverAddress: '10.99.0.1' } };

test('a throwing selectBoot tap drops that packet (logged with plugin and hook); the next packet is answered', async () => {
  let calls = 0;
  const flaky = definePlugin({
    name: 'flaky',
    apply(server) {
      server.dhcp.hooks.selectBoot.tap({ name: 'flaky', stage: -100 }, () => {
        if (calls++ === 0) throw new Error('boom');
        return undefined;
      });
    },
  });
  const { server, lines, events } = makeServer(proxyCfg, [flaky, testBoot()]);
  assert.deepEqual(await server.inject.dhcp(request('52:54:00:00:02:01', DHCPDISCOVER, {}, pxe), { local }), []);
  const err = lines.find((l) => l.event === 'dhcp.hook.error');
  assert.equal(err?.plugin, 'flaky');
  assert.equal(err?.hook, 'dhcp.selectBoot');
  assert.equal(err?.code, 'PXE_ERR_HOOK_FAILED');
  assert.ok(events.some((e) => e.type === 'dhcp.drop' && e.plugin === 'flaky'));
  const [r] = await server.inject.dhcp(request('52:54:00:00:02:01', DHCPDISCOVER, {}, pxe), { local });
  assert.equal(getOption(r!.packet, 53), 2);
  assert.equal(server.sessions.get('52:54:00:00:02:01')?.boot?.decidedBy, 'test-boot');
});

test('a throwing classify tap and a throwing reply tap drop the packet too', async () => {
  let mode = 'classify';
  const bad = definePlugin({
    name: 'bad',
    apply(server) {
      server.dhcp.hooks.classify.tap('bad', (c) => {
        if (mode === 'classify') throw new Error('x');
        return c;
      });
      server.dhcp.hooks.reply.tapPromise('bad', async (p) => {
        if (mode === 'reply') throw new Error('y');
        return p;
      });
    },
  });
  const { server, lines } = makeServer(proxyCfg, [bad, testBoot()]);
  assert.deepEqual(await server.inject.dhcp(request('52:54:00:00:02:02', DHCPDISCOVER, {}, pxe), { local }), []);
  mode = 'reply';
  assert.deepEqual(await server.inject.dhcp(request('52:54:00:00:02:02', DHCPDISCOVER, {}, pxe), { local }), []);
  assert.deepEqual(
    lines.filter((l) => l.event === 'dhcp.hook.error').map((l) => l.hook),
    ['dhcp.classify', 'dhcp.reply'],
  );
  mode = 'none';
  assert.equal((await server.inject.dhcp(request('52:54:00:00:02:02', DHCPDISCOVER, {}, pxe), { local })).length, 1);
});

test('malformed packets are dropped with a logged reason and counted', async () => {
  const { server, lines } = makeServer(proxyCfg);
  const good = encode(request('52:54:00:00:02:03', DHCPDISCOVER, {}, pxe));
  const badMagic = Buffer.from(good);
  badMagic.writeUInt32BE(0xdeadbeef, 236);
  const overrun = Buffer.concat([good.subarray(0, 240), Buffer.from([60, 200, 1, 2, 3])]);
  const badTypePacket = request('52:54:00:00:02:03', DHCPDISCOVER, {}, pxe);
  badTypePacket.options.set(53, Buffer.from([1, 1]));
  const badType = encode(badTypePacket);
  for (const b of [Buffer.alloc(10), badMagic, overrun, Buffer.alloc(70000), badType])
    assert.deepEqual(await server.inject.dhcp(b, { local }), []);
  const reasons = lines.filter((l) => l.event === 'dhcp.decode.error').map((l) => l.reason);
  assert.deepEqual(reasons, ['truncated-header', 'bad-magic', 'option-overrun', 'too-large', 'bad-option-value']);
  assert.equal(server.dhcp.stats.decodeErrors, 5);
  const reply = request('52:54:00:00:02:03', DHCPDISCOVER, { op: BOOTREPLY }, pxe);
  assert.deepEqual(await server.inject.dhcp(reply, { local }), []);
  assert.equal((await server.inject.dhcp(good, { local })).length, 1, 'the server still answers');
});

test('receive drop and admit deny send nothing; reply taps can edit the reply', async () => {
  const gate = definePlugin({
    name: 'gate',
    apply(server) {
      server.dhcp.hooks.receive.tap('gate', (ctx) =>
        ctx.packet.mac.endsWith(':01') ? { drop: 'owned by another instance' } : undefined,
      );
      server.hooks.admit.tap('gate', (req) => (req.mac?.endsWith(':02') ? { deny: 'not on the list' } : undefined));
      server.dhcp.hooks.reply.tap('gate', (p) => {
        setOption(p, 66, 'tftp.lab');
        return p;
      });
    },
  });
  const { server, events } = makeServer(proxyCfg, [gate, testBoot()]);
  assert.deepEqual(await server.inject.dhcp(request('52:54:00:00:03:01', DHCPDISCOVER, {}, pxe), { local }), []);
  assert.deepEqual(await server.inject.dhcp(request('52:54:00:00:03:02', DHCPDISCOVER, {}, pxe), { local }), []);
  const drops = events.filter((e) => e.type === 'dhcp.drop');
  assert.equal(drops[0]?.data.reason, 'owned by another instance');
  assert.equal(drops[0]?.plugin, 'gate');
  assert.match(String(drops[1]?.data.reason), /not on the list/);
  assert.ok(events.some((e) => e.type === 'admit.deny'));
  assert.equal(server.sessions.get('52:54:00:00:03:02')?.denied, 'not on the list');
  const [r] = await server.inject.dhcp(request('52:54:00:00:03:03', DHCPDISCOVER, {}, pxe), { local });
  assert.equal(getOption(r!.packet, 66), 'tftp.lab');
});

test('the session records the client class and the boot decision; one info log line per reply', async () => {
  const { server, lines } = makeServer(proxyCfg);
  await server.inject.dhcp(request('52:54:00:00:04:01', DHCPDISCOVER, {}, { ...pxe, 77: Buffer.from('iPXE') }), {
    local,
  });
  const s = server.sessions.get('52:54:00:00:04:01');
  assert.equal(s?.arch, 7);
  assert.equal(s?.firmware, 'uefi');
  assert.equal(s?.isIpxe, true);
  assert.deepEqual(s?.boot, { file: 'http://10.99.0.1/boot.ipxe', decidedBy: 'test-boot' });
  const info = lines.filter((l) => l.level === 30 && String(l.event).startsWith('dhcp.proxy'));
  assert.equal(info.length, 1);
  assert.equal(info[0]?.bootFile, 'http://10.99.0.1/boot.ipxe');
  assert.equal(info[0]?.plugin, 'test-boot');
});

test('a plugin failing on every packet is logged once a second with a count, not once per packet', async () => {
  const { server, lines, events } = makeServer(proxyCfg, [failingClassify(), testBoot()]);
  for (let i = 0; i < 50; i++) await server.inject.dhcp(request('52:54:00:00:02:09', DHCPDISCOVER, {}, pxe), { local });
  const errors = () => lines.filter((l) => l.event === 'dhcp.hook.error');
  assert.equal(errors().length, 1, 'one line while the failures go on');
  assert.equal(events.filter((e) => e.type === 'dhcp.drop').length, 50, 'every drop is still a boot event');
  await new Promise((r) => setTimeout(r, 1200)); // the interval ends: one line for the 49 held back
  assert.deepEqual(
    errors().map((l) => [l.plugin, l.hook, l.suppressed]),
    [
      ['bad', 'dhcp.classify', undefined],
      ['bad', 'dhcp.classify', 49],
    ],
  );
});
