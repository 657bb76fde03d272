import { test } from 'node:test';
import assert from 'node:assert/strict';
import { get } from 'node:http';
import { fileURLToPath } from 'node:url';
import { spawnTracked, waitFor } from '../../test/helpers/proc.js';

const SCRIPT = fileURLToPath(new URL('./server.ts', import.meta.url));

test('programmatic: server.ts starts, serves its boot script and counts the fetch', { timeout: 60_000 }, async (t) => {
  const p = spawnTracked(process.execPath, ['--conditions=source', '--import', 'tsx', SCRIPT], {
    env: {
      ...process.env,
      PXEKIT_DHCP: 'off',
      PORT_TFTP: '0',
      PORT_HTTP: '0',
      PXEKIT_ADDRESS: '127.0.0.1',
      PXEKIT_LOG_LEVEL: 'info',
    },
  });
  t.after(() => p.stop(3_000));
  const lines = () =>
    p
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  const listening = await waitFor(
    () => {
      if (p.exited()) throw new Error(`server.ts exited:\n${p.output()}`);
      return lines().find((l) => l['event'] === 'server.listening');
    },
    30_000,
    'server.ts to listen',
  );
  const http = (listening['listening'] as Array<{ protocol: string; port: number }>).find((l) => l.protocol === 'http');
  assert.ok(http, 'an HTTP listener');

  const body = await new Promise<string>((resolve, reject) => {
    get({ host: '127.0.0.1', port: http.port, path: '/boot.ipxe', timeout: 5_000 }, (res) => {
      let s = '';
      res
        .setEncoding('utf8')
        .on('data', (d: string) => {
          s += d;
        })
        .on('end', () => resolve(`${res.statusCode} ${s}`));
    })
      .on('error', reject)
      .on('timeout', function (this: { destroy(e: Error): void }) {
        this.destroy(new Error('timeout'));
      });
  });
  assert.match(body, /^200 #!ipxe\n/);
  assert.match(body, /PXEKIT-BOOT-OK/);
  await waitFor(
    () => lines().find((l) => l['event'] === 'boot-counter.script' && l['n'] === 1),
    5_000,
    'the inline plugin to see the fetch',
  );

  await p.stop(5_000);
  assert.ok(
    lines().some((l) => l['event'] === 'server.closed'),
    'closed gracefully on SIGTERM',
  );
});
