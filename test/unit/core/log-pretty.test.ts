/**
 * The terminal log: one line per event (time, level, event, message, key=value fields), JSON lines when
 * not pretty. Start-up of a small server fits in a few lines.
 */
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { createLogger } from '../../../core/log.js';
import { prettyMessage } from '../../../core/log-pretty.js';

function capture(pretty: boolean) {
  const out = new PassThrough();
  let text = '';
  out.on('data', (b: Buffer) => (text += b.toString()));
  const log = createLogger({ level: 'info', pretty, destination: out });
  // Colour codes out: ESC [ … m.
  return {
    log,
    text: () =>
      text
        .split(String.fromCharCode(27))
        .map((s, i) => (i === 0 ? s : s.replace(/^\[[0-9;]*m/, '')))
        .join(''),
  };
}

test('pretty: one line per event, with the event name, the message and the fields as key=value', () => {
  const c = capture(true);
  const child = c.log.child({ plugin: 'source-disk' });
  child.info({ event: 'files.mount', source: 'source-disk', mount: '/', root: '/srv/my boot' }, 'disk source mounted');
  c.log.info(
    {
      event: 'server.listening',
      listening: [
        { protocol: 'tftp', address: '0.0.0.0', port: 69 },
        { protocol: 'http', address: '::', port: 80 },
      ],
    },
    'pxekit listening',
  );
  c.log.error({ event: 'template.error', err: new Error('boom') }, 'template failed');
  const lines = c.text().trimEnd().split('\n');
  assert.equal(lines.length, 3, c.text());
  assert.match(
    lines[0]!,
    /^\[\d\d:\d\d:\d\d\] INFO: files\.mount disk source mounted {2}plugin=source-disk mount=\/ root="\/srv\/my boot"$/,
  );
  assert.match(
    lines[1]!,
    /INFO: server\.listening pxekit listening {2}listening="tftp 0\.0\.0\.0:69, http \[::\]:80"$/,
  );
  assert.match(lines[2]!, /ERROR: template\.error template failed {2}err="boom"$/);
});

test('not pretty: JSON lines with every field', () => {
  const c = capture(false);
  c.log.info({ event: 'files.mount', mount: '/' }, 'disk source mounted');
  const rec = JSON.parse(c.text().trim()) as Record<string, unknown>;
  assert.equal(rec['event'], 'files.mount');
  assert.equal(rec['msg'], 'disk source mounted');
  assert.equal(rec['mount'], '/');
});

test('prettyMessage: no fields, no trailing separator', () => {
  assert.equal(
    prettyMessage({ event: 'server.closed', msg: 'pxekit closed', time: 1, level: 30 }, 'msg'),
    'server.closed pxekit closed',
  );
});
