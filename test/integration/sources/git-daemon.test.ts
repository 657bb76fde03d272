/** source-git against `git daemon` on 127.0.0.1 (git:// protocol), started and stopped by this test. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import sourceGit from '../../../plugins/source-git/index.js';
import { run, spawnTracked, waitFor, type Tracked } from '../../helpers/proc.js';
import { GitFixture } from './git-fixture.js';
import { logSink, readAll, startSources, within } from './helpers.js';

const req = { protocol: 'http' as const };

async function freePort(): Promise<number> {
  const s = createNetServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

function startDaemon(base: string, port: number): Tracked {
  return spawnTracked('git', [
    'daemon',
    '--listen=127.0.0.1',
    `--port=${port}`,
    '--export-all',
    '--reuseaddr',
    `--base-path=${base}`,
    base,
  ]);
}

async function daemonReady(url: string): Promise<void> {
  await waitFor(
    async () =>
      (await run('git', ['ls-remote', url], { timeoutMs: 5_000, env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } }))
        .code === 0,
    15_000,
    'git daemon',
    200,
  );
}

test('git://: served, new commits picked up by the interval refresh, remote down keeps the last good commit', async (t) => {
  const execPath = (await run('git', ['--exec-path'], { timeoutMs: 5_000 })).stdout.trim();
  if (!existsSync(join(execPath, 'git-daemon'))) {
    t.skip(`git daemon is not installed (no ${join(execPath, 'git-daemon')})`);
    return;
  }
  const fx = new GitFixture();
  t.after(() => fx.cleanup());
  await fx.init({ 'ipxe/boot.ipxe': '#!ipxe\necho one\n' });
  const port = await freePort();
  let daemon = startDaemon(fx.dir, port);
  t.after(() => daemon.stop());
  const url = `git://127.0.0.1:${port}/remote.git`;
  await daemonReady(url);

  const plugin = sourceGit({ repo: url, ref: 'main', cacheDir: fx.cache, refreshSeconds: 1, mount: '/scripts' });
  const sink = logSink();
  const { server, events } = await startSources(t, [plugin], sink.logger);
  const text = async (p: string) => {
    const f = await server.files.resolve(p, req);
    return f ? (await readAll(await f.open())).toString() : undefined;
  };
  assert.equal(await text('/scripts/ipxe/boot.ipxe'), '#!ipxe\necho one\n');

  // A pushed commit is served once the (1 s) interval refresh has run.
  const second = await fx.commit({ 'ipxe/boot.ipxe': '#!ipxe\necho two\n' }, 'two');
  await fx.push();
  await waitFor(() => plugin.commit() === second, 20_000, 'interval refresh to the new commit');
  assert.equal(await text('/scripts/ipxe/boot.ipxe'), '#!ipxe\necho two\n');
  assert.ok(events.some((e) => e.type === 'git.commit' && e.data['commit'] === second));

  // Remote unreachable: refreshes fail (logged, emitted), the last good commit keeps serving.
  await daemon.stop();
  await fx.commit({ 'ipxe/boot.ipxe': 'three' }, 'three');
  await fx.push();
  const r = await plugin.refresh();
  assert.equal(r.ok, false);
  assert.equal(r.commit, second);
  assert.match(r.error ?? '', /git fetch|fetch/);
  assert.ok(sink.lines.some((l) => l['event'] === 'git.refresh.failed'));
  assert.equal(await text('/scripts/ipxe/boot.ipxe'), '#!ipxe\necho two\n');

  // Back: the next refresh catches up.
  daemon = startDaemon(fx.dir, port);
  await daemonReady(url);
  const back = await plugin.refresh();
  assert.equal(back.ok, true);
  assert.equal(back.changed, true);
  assert.equal(await text('/scripts/ipxe/boot.ipxe'), 'three');
});

test('a remote that hangs: bounded at start (stale mirror served), killed on close', async (t) => {
  const fx = new GitFixture();
  t.after(() => fx.cleanup());
  await fx.init({ 'a.txt': 'A' });
  // 1) A mirror made from the real remote.
  const { server: first } = await startSources(t, [
    sourceGit({ repo: fx.bare, cacheDir: fx.cache, refreshSeconds: 0 }),
  ]);
  await first.close();
  // 2) The same mirror, now pointed at a TCP server that either drops connections or holds them silently.
  let hang = false;
  let connections = 0;
  const held = new Set<import('node:net').Socket>();
  const blackhole = createNetServer((sock) => {
    connections++;
    if (hang) held.add(sock);
    else sock.destroy();
  });
  await new Promise<void>((r) => blackhole.listen(0, '127.0.0.1', r));
  t.after(() => {
    for (const s of held) s.destroy();
    blackhole.close();
  });
  const url = `git://127.0.0.1:${(blackhole.address() as AddressInfo).port}/remote.git`;
  const sink = logSink();
  const plugin = sourceGit({ repo: url, cacheDir: fx.cache, refreshSeconds: 0, timeoutSeconds: 60 });
  const { server } = await startSources(t, [plugin], sink.logger);
  assert.ok(
    sink.lines.some((l) => l['event'] === 'git.stale'),
    'start-up served the existing mirror',
  );
  assert.equal((await readAll(await (await server.files.resolve('/a.txt', req))!.open())).toString(), 'A');
  hang = true;
  const pending = plugin.refresh();
  await waitFor(() => held.size > 0, 10_000, 'git to connect');
  await within(server.close(), 10_000, 'close with a hanging fetch');
  const r = await within(pending, 5_000, 'the cancelled refresh');
  assert.equal(r.ok, false);
  assert.ok(connections >= 2);
});
