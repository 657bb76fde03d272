import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../../bin/pxekit.js', import.meta.url));

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  test(
    `pxekit start closes the listeners on ${signal}, flushes its logs and exits 0`,
    { timeout: 30_000 },
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'pxekit-sig-'));
      writeFileSync(
        join(dir, 'pxekit.config.json'),
        JSON.stringify({
          dhcp: { mode: 'off' },
          tftp: { port: 0, address: '127.0.0.1' },
          http: { port: 0, address: '127.0.0.1' },
          log: { level: 'info', pretty: false },
        }),
      );
      const child = spawn(process.execPath, [BIN, 'start'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
      });
      child.stderr.on('data', (d: Buffer) => {
        out += d.toString();
      });
      const deadline = Date.now() + 20_000;
      while (!out.includes('"event":"server.listening"') && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));
      assert.match(out, /"event":"server.listening"/, out);
      child.kill(signal);
      const [code] = (await once(child, 'exit')) as [number | null];
      assert.equal(code, 0, out);
      const events = out
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => (JSON.parse(l) as { event?: string }).event);
      assert.ok(events.includes('server.signal'), out);
      assert.equal(events.at(-1), 'server.closed', 'the last log line is the close, so logs were flushed before exit');
    },
  );
}
