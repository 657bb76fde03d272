/**
 * `pxekit start` on SIGHUP, on loopback with real curl: a valid config takes effect on the same ports
 * (new requests see the new source root), an invalid one and one that changes a listener leave the
 * running config serving and log every problem, and SIGTERM afterwards still closes cleanly.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { run } from '../../helpers/proc.js';
import { which } from '../../helpers/realnet.js';
import { startCli } from './cli-child.js';

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
    const { child, output, lines, events, waitEvent } = startCli(t, dir, cfg);

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
    assert.equal(await get(), 'served from b\n', `after the reload\n${output()}`);
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
    assert.equal(code, 0, output());
    assert.equal(lines().at(-1)?.event, 'server.closed', 'the last line is the close: logs flushed');
    assert.equal(events('config.retired').length, 1, 'the replaced config closed its plugins once');
  },
);
