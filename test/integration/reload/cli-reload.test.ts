/**
 * `pxekit start` on SIGHUP, on loopback with real curl: a valid config takes effect on the same ports
 * (new requests see the new source root), an invalid one and one that changes a listener leave the
 * running config serving and log every problem, and SIGTERM afterwards still closes cleanly.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { run, waitFor } from '../../helpers/proc.js';
import { which } from '../../helpers/realnet.js';

const BIN = fileURLToPath(new URL('../../../bin/pxekit.js', import.meta.url));
type LogLine = Record<string, unknown> & { event?: string };

function config(root: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    dhcp: { mode: 'off' },
    tftp: { port: 0, address: '127.0.0.1' },
    http: { port: 0, address: '127.0.0.1' },
    log: { level: 'info', pretty: false },
    plugins: [['source-disk', { root }]],
    ...extra,
  });
}

test(
  'SIGHUP reloads the config: valid applies on the same ports, invalid and listener changes are refused and logged',
  { skip: which('curl') ? undefined : 'needs curl', timeout: 180_000 },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'pxekit-reload-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    for (const [name, text] of [
      ['a', 'served from a\n'],
      ['b', 'served from b\n'],
    ] as const) {
      mkdirSync(join(dir, name));
      writeFileSync(join(dir, name, 'hello.txt'), text);
    }
    const cfg = join(dir, 'pxekit.config.json');
    writeFileSync(cfg, config('./a'));
    const child: ChildProcess = spawn(process.execPath, [BIN, 'start', '--config', cfg], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    t.after(() => child.kill('SIGKILL'));
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const lines = (): LogLine[] =>
      out
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as LogLine);
    const events = (name: string) => lines().filter((l) => l.event === name);
    const waitEvent = (name: string, count: number) =>
      waitFor(() => events(name).length >= count, 45_000, `${count} × ${name}\n${out}`);

    await waitEvent('server.listening', 1);
    const listening = events('server.listening')[0]!.listening as { protocol: string; port: number }[];
    const httpPort = listening.find((l) => l.protocol === 'http')!.port;
    const get = async () =>
      (await run('curl', ['-sS', '--max-time', '5', `http://127.0.0.1:${httpPort}/hello.txt`], { timeoutMs: 10_000 }))
        .stdout;
    assert.equal(await get(), 'served from a\n');

    // A valid config: same ports, new requests see the new root.
    writeFileSync(cfg, config('./b'));
    child.kill('SIGHUP');
    await waitEvent('config.reloaded', 1);
    assert.equal(await get(), 'served from b\n', `after the reload\n${out}`);
    await waitEvent('config.retired', 1);

    // An invalid config: every problem logged, the running one goes on.
    writeFileSync(
      cfg,
      JSON.stringify({
        dhcp: { mode: 'sideways' },
        tftp: { port: 0, address: '127.0.0.1', maxBlksize: 'big' },
        http: { port: 0, address: '127.0.0.1' },
        log: { level: 'info', pretty: false },
        plugins: [['source-disk', { root: './a' }]],
      }),
    );
    child.kill('SIGHUP');
    await waitEvent('config.reload.failed', 1);
    const failed = events('config.reload.failed')[0]!;
    const problems = failed.problems as { path: string; message: string; fix: string }[];
    assert.equal(failed.code, 'PXE_ERR_CONFIG_INVALID');
    assert.deepEqual(problems.map((p) => p.path).sort(), ['dhcp.mode', 'tftp.maxBlksize'], JSON.stringify(problems));
    for (const p of problems) assert.ok(p.fix.length > 0, `problem without a fix: ${JSON.stringify(p)}`);
    assert.equal(await get(), 'served from b\n', 'the running config still serves');

    // A plugin that does not exist, and a source root whose plugin options are wrong: refused too.
    writeFileSync(
      cfg,
      config('./a', {
        plugins: [
          ['source-disk', { root: 5 }],
          ['no-such-plugin', {}],
        ],
      }),
    );
    child.kill('SIGHUP');
    await waitEvent('config.reload.failed', 2);
    assert.equal(await get(), 'served from b\n');

    // A listener change: refused as a whole (the new root is not applied either), with the fix.
    writeFileSync(cfg, config('./a', { http: { port: httpPort + 1, address: '127.0.0.1' } }));
    child.kill('SIGHUP');
    await waitEvent('config.reload.failed', 3);
    const refused = events('config.reload.failed')[2]!;
    assert.equal(refused.code, 'PXE_ERR_RELOAD_REFUSED');
    const paths = (refused.problems as { path: string }[]).map((p) => p.path);
    assert.deepEqual(paths, ['http.port'], JSON.stringify(refused.problems));
    assert.equal(await get(), 'served from b\n');

    child.kill('SIGTERM');
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.equal(code, 0, out);
    assert.equal(lines().at(-1)?.event, 'server.closed', 'the last line is the close: logs flushed');
    assert.equal(events('config.retired').length, 1, 'the replaced config closed its plugins once');
  },
);
