/**
 * Relay-reply wrapping (RFC 8415 §19.3) and the port a reply goes to (RFC 8357), checked against a
 * Relay-reply a real server sent through a real relay (captured, test/fixtures/dhcp6/relay-04-13.hex).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  decode,
  encode,
  findOption,
  MessageType,
  OptionCode,
  replyPort,
  unwrapRelays,
  wrapRelayReplies,
  type Dhcp6RelayMessage,
} from '../../../core/dhcp6/codec.js';

const dir = fileURLToPath(new URL('../../fixtures/dhcp6/', import.meta.url));
const load = (file: string): Buffer => Buffer.from(readFileSync(dir + file, 'utf8').trim(), 'hex');

test('wrapping the inner Advertise in the captured relay layer gives the captured Relay-reply, byte for byte', () => {
  const wire = load('relay-04-13.hex');
  const un = unwrapRelays(decode(wire));
  assert.ok(un);
  assert.equal(un.relays.length, 1);
  assert.equal(un.message.msgType, MessageType.ADVERTISE);
  assert.deepEqual(encode(wrapRelayReplies(un.message, un.relays)), wire);
});

test('each layer echoes its relay Interface-ID, innermost relay nearest the client', () => {
  const inner = unwrapRelays(decode(load('relay-02-12.hex')));
  assert.ok(inner);
  const outer: Dhcp6RelayMessage = {
    kind: 'relay',
    msgType: MessageType.RELAY_FORW,
    hopCount: 1,
    linkAddress: '::',
    peerAddress: 'fd77:0:0:1::3',
    options: [{ kind: 'interface-id', id: Buffer.from('uplink') }],
  };
  const relays = [
    outer,
    ...inner.relays.map((r) => ({
      ...r,
      options: [...r.options, { kind: 'interface-id' as const, id: Buffer.from('eth7') }],
    })),
  ];
  const reply = { ...inner.message, msgType: MessageType.REPLY };
  const out = decode(encode(wrapRelayReplies(reply, relays)));
  assert.equal(out.kind, 'relay');
  assert.equal(out.msgType, MessageType.RELAY_REPL);
  assert.equal(out.hopCount, 1);
  assert.deepEqual(findOption(out.options, 'interface-id')?.id, Buffer.from('uplink'));
  const next = findOption(out.options, 'relay-msg')?.message;
  assert.ok(next && next.kind === 'relay');
  assert.equal(next.msgType, MessageType.RELAY_REPL);
  assert.equal(next.hopCount, inner.relays[0]!.hopCount);
  assert.equal(next.linkAddress, inner.relays[0]!.linkAddress);
  assert.equal(next.peerAddress, inner.relays[0]!.peerAddress);
  assert.deepEqual(findOption(next.options, 'interface-id')?.id, Buffer.from('eth7'));
  const client = findOption(next.options, 'relay-msg')?.message;
  assert.equal(client?.msgType, MessageType.REPLY);
});

test('reply port: the client port when direct, 547 to a relay, the relay source port when option 135 says so', () => {
  const relay = unwrapRelays(decode(load('relay-02-12.hex')))!.relays;
  assert.equal(replyPort([], 546, 547), 546);
  assert.equal(replyPort(relay, 547, 547), 547);
  assert.equal(replyPort(relay, 40000, 547), 547, 'a relay without option 135 is answered on the server port');
  const withSourcePort: Dhcp6RelayMessage[] = [
    {
      ...relay[0]!,
      options: [...relay[0]!.options, { kind: 'raw', code: OptionCode.RELAY_SOURCE_PORT, data: Buffer.alloc(2) }],
    },
  ];
  assert.equal(replyPort(withSourcePort, 40000, 547), 40000);
});
