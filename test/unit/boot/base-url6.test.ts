/**
 * The base URL of boot URLs per address family (`serverBaseUrl`): IPv6 clients get `http.baseUrl6`, else a
 * `http.baseUrl` with a host name, else their own address in brackets; an IPv4-literal `baseUrl` is never handed
 * to an IPv6 client. Also through a DHCPv6 answer: ipxe-chain's script URL in option 59.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { serverBaseUrl } from '../../../core/boot/url.js';
import { validateConfig } from '../../../core/config/validate.js';
import { decode, findOption, type Dhcp6Packet } from '../../../core/dhcp6/codec.js';
import ipxeChain from '../../../plugins/ipxe-chain/index.js';
import { makeServer } from '../dhcp-service/helpers.js';

const cfg = (http: Record<string, unknown>) => validateConfig({ http: { port: 8080, ...http } });

test('IPv4 clients keep http.baseUrl; IPv6 clients get http.baseUrl6 when set', () => {
  const c = cfg({ baseUrl: 'http://10.77.0.1:8080/', baseUrl6: 'http://[fd77::1]:8080/' });
  assert.equal(serverBaseUrl(c, '10.77.0.1'), 'http://10.77.0.1:8080');
  assert.equal(serverBaseUrl(c, '::ffff:10.77.0.1'), 'http://10.77.0.1:8080', 'IPv4-mapped is IPv4');
  assert.equal(serverBaseUrl(c, 'fd77::1'), 'http://[fd77::1]:8080');
  assert.equal(serverBaseUrl(c, 'fe80::1%eth0'), 'http://[fd77::1]:8080');
});

test('without baseUrl6: a baseUrl with a name serves both, an IPv4 literal only IPv4', () => {
  const named = cfg({ baseUrl: 'http://boot.lab.example:8080' });
  assert.equal(serverBaseUrl(named, 'fd77::1'), 'http://boot.lab.example:8080');
  const v4 = cfg({ baseUrl: 'http://10.77.0.1:8080' });
  assert.equal(serverBaseUrl(v4, '10.77.0.1'), 'http://10.77.0.1:8080');
  assert.equal(serverBaseUrl(v4, 'fd77::1', 8080), 'http://[fd77::1]:8080');
  assert.equal(serverBaseUrl(v4, 'fe80::1%eth0', 80), 'http://[fe80::1]', 'no zone in a URL');
  const none = cfg({});
  assert.equal(serverBaseUrl(none, '::ffff:10.77.0.1', 8080), 'http://10.77.0.1:8080', 'no brackets for IPv4-mapped');
});

test('a DHCPv6 answer to iPXE carries the script under http.baseUrl6, a DHCPv4 one under http.baseUrl', async () => {
  const { server } = makeServer(
    {
      dhcp: { mode: 'off' },
      http: { enabled: false, port: 8080, baseUrl: 'http://10.77.0.1:8080', baseUrl6: 'http://[fd77::1]:8081' },
      dhcp6: { mode: 'boot-only', serverAddress: 'fd77::1', serverDuid: '00:03:00:01:52:54:00:00:00:01' },
    },
    [ipxeChain({ script: '/boot.ipxe' })],
  );
  const ipxe: Dhcp6Packet = {
    kind: 'message',
    msgType: 11,
    transactionId: 1,
    options: [
      { kind: 'client-id', duid: Buffer.from('00030001525400000002', 'hex') },
      { kind: 'oro', codes: [59] },
      { kind: 'client-arch-type', types: [7] },
      { kind: 'vendor-class', enterprise: 343, data: [Buffer.from('PXEClient:Arch:00007:UNDI:003010')] },
      { kind: 'user-class', classes: [Buffer.from('iPXE')] },
    ],
  };
  const [out] = await server.dhcp6.inject(ipxe, { address: 'fe80::5054:ff:fe00:2', port: 546 });
  assert.ok(out, 'answered');
  const p = decode(out.buffer);
  assert.equal(p.kind === 'message' && findOption(p.options, 'bootfile-url')?.url, 'http://[fd77::1]:8081/boot.ipxe');
});
