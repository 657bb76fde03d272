import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, renameSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable, type Readable } from 'node:stream';
import { type BootEvent, createLogger, createServer } from 'pxekit';
import sourceDisk, { diskEtag } from './index.js';

async function readAll(s: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of s) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

function logSink() {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk, _e, cb) {
      for (const l of String(chunk).split('\n')) if (l) lines.push(JSON.parse(l));
      cb();
    },
  });
  return { lines, logger: createLogger({ level: 'debug', destination }) };
}

/** A tree: root/{ipxe/undionly.kpxe, Boot/BCD, empty.bin, secret.txt, link-in -> ipxe, link-out -> outside}, outside/passwd. */
function makeTree(t: { after(fn: () => void): void }) {
  const dir = mkdtempSync(join(tmpdir(), 'pxekit-disk-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const root = join(dir, 'root');
  mkdirSync(join(root, 'ipxe'), { recursive: true });
  mkdirSync(join(root, 'Boot'));
  mkdirSync(join(root, '%2e%2e'));
  mkdirSync(join(dir, 'outside'));
  const data = Buffer.alloc(70_000);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7) & 0xff;
  writeFileSync(join(root, 'ipxe', 'undionly.kpxe'), data);
  writeFileSync(join(root, 'Boot', 'BCD'), 'bcd');
  writeFileSync(join(root, 'empty.bin'), '');
  writeFileSync(join(root, 'secret.txt'), 'secret');
  writeFileSync(join(root, '%2e%2e', 'x'), 'literal');
  writeFileSync(join(dir, 'outside', 'passwd'), 'root:x:0:0');
  symlinkSync(join(root, 'ipxe'), join(root, 'link-in'));
  symlinkSync(join(dir, 'outside'), join(root, 'link-out'));
  symlinkSync('../outside/passwd', join(root, 'passwd-rel'));
  return { dir, root, data };
}

async function started(t: { after(fn: () => Promise<void>): void }, plugins: unknown[], logger = logSink().logger) {
  const server = createServer({
    dhcp: { mode: 'off' },
    tftp: { enabled: false },
    http: { enabled: false },
    logger,
    plugins: plugins as never,
  });
  const events: BootEvent[] = [];
  server.hooks.bootEvent.tap('test', (e) => {
    events.push(e);
  });
  await server.start();
  t.after(() => server.close());
  return { server, events };
}

const req = { protocol: 'tftp' as const };

test('size, etag, full read, ranged read, empty file', async (t) => {
  const { root, data } = makeTree(t);
  utimesSync(join(root, 'ipxe', 'undionly.kpxe'), 1_700_000_000, 1_700_000_000);
  const { server } = await started(t, [sourceDisk({ root })]);
  const f = await server.files.resolve('/ipxe/undionly.kpxe', req);
  assert.ok(f);
  assert.equal(f.size, 70_000);
  assert.equal(f.source, 'source-disk');
  assert.equal(f.path, '/ipxe/undionly.kpxe');
  assert.equal(f.etag, diskEtag(70_000, 1_700_000_000_000));
  assert.equal(f.etag, '"11170-18bcfe56800"');
  assert.equal(f.mtime?.getTime(), 1_700_000_000_000);
  assert.deepEqual(await readAll(await f.open()), data);
  assert.deepEqual(await readAll(await f.open({ start: 100, end: 65_635 })), data.subarray(100, 65_636));
  assert.deepEqual(
    await readAll(await f.open({ start: 69_999, end: 80_000 })),
    data.subarray(69_999),
    'end clamped to the last byte',
  );
  await assert.rejects(f.open({ start: 70_000, end: 70_001 }), /unsatisfiable/);
  const e = await server.files.resolve('/empty.bin', req);
  assert.equal(e?.size, 0);
  assert.equal((await readAll(await e!.open())).length, 0);
});

test('missing files and directories answer undefined', async (t) => {
  const { root } = makeTree(t);
  const { server } = await started(t, [sourceDisk({ root })]);
  assert.equal(await server.files.resolve('/nope.bin', req), undefined);
  assert.equal(await server.files.resolve('/ipxe', req), undefined);
  assert.equal(await server.files.resolve('/', req), undefined);
  assert.equal(await server.files.resolve('/ipxe/undionly.kpxe/x', req), undefined);
});

test('traversal: .., encoded, absolute, NUL and symlinks out are refused', async (t) => {
  const { root } = makeTree(t);
  const sink = logSink();
  const { server, events } = await started(t, [sourceDisk({ root })], sink.logger);
  assert.equal(await server.files.resolve('/../../etc/passwd', req), undefined);
  assert.equal(await server.files.resolve('../outside/passwd', req), undefined);
  assert.equal(await server.files.resolve('ipxe/../../outside/passwd', req), undefined);
  assert.equal(await server.files.resolve('\\..\\outside\\passwd', req), undefined);
  assert.equal(await server.files.resolve('/etc/passwd', req), undefined, 'absolute host paths stay inside the root');
  assert.equal(
    await server.files.resolve('/%2e%2e/%2e%2e/outside/passwd', req),
    undefined,
    'percent signs are literal names',
  );
  assert.equal(
    (await server.files.resolve('/%2e%2e/x', req))?.size,
    7,
    'a folder literally named %2e%2e is just a name',
  );
  assert.equal(await server.files.resolve('/ipxe/undionly.kpxe\u0000.txt', req), undefined);
  // Defence in depth: the hook itself, called with unnormalised paths, refuses them.
  assert.equal(await server.files.hooks.resolve.promise({ path: '/../outside/passwd', protocol: 'http' }), undefined);
  assert.equal(await server.files.hooks.resolve.promise({ path: '/ipxe/\u0000', protocol: 'http' }), undefined);
  assert.equal(await server.files.hooks.resolve.promise({ path: '//outside/passwd', protocol: 'http' }), undefined);
  // Symlinks: inside the root they work, leading out they are refused and reported.
  assert.equal((await server.files.resolve('/link-in/undionly.kpxe', req))?.size, 70_000);
  assert.equal(await server.files.resolve('/link-out/passwd', req), undefined);
  assert.equal(await server.files.resolve('/passwd-rel', req), undefined);
  const denied = sink.lines.filter((l) => l['event'] === 'files.denied');
  assert.ok(
    denied.some((l) => String(l['reason']).includes('outside the root') && l['path'] === '/link-out/passwd'),
    JSON.stringify(denied),
  );
  assert.ok(denied.some((l) => String(l['reason']).includes('..')));
  assert.ok(
    events.some((e) => e.type === 'files.denied' && e.outcome === 'denied' && e.data['path'] === '/passwd-rel'),
  );
});

test('followSymlinks: none (or false) refuses even symlinks inside the root', async (t) => {
  const { root } = makeTree(t);
  for (const followSymlinks of ['none', false] as const) {
    const { server } = await started(t, [sourceDisk({ root, followSymlinks })]);
    assert.equal(await server.files.resolve('/link-in/undionly.kpxe', req), undefined, String(followSymlinks));
    assert.equal((await server.files.resolve('/ipxe/undionly.kpxe', req))?.size, 70_000);
  }
});

test('followSymlinks: inside (default, or true) follows links within the root only', async (t) => {
  const { root } = makeTree(t);
  for (const followSymlinks of ['inside', true, undefined] as const) {
    const { server } = await started(t, [
      sourceDisk({ root, ...(followSymlinks === undefined ? {} : { followSymlinks }) }),
    ]);
    assert.equal((await server.files.resolve('/link-in/undionly.kpxe', req))?.size, 70_000, String(followSymlinks));
    assert.equal(await server.files.resolve('/link-out/passwd', req), undefined, String(followSymlinks));
    assert.equal(await server.files.resolve('/passwd-rel', req), undefined, String(followSymlinks));
  }
});

test(
  'followSymlinks: any follows links out of the root (Debian /usr/lib/ipxe/ipxe.efi -> ' +
    '/boot/ipxe.efi); traversal still refused',
  async (t) => {
    const { root } = makeTree(t);
    const sink = logSink();
    const { server } = await started(t, [sourceDisk({ root, followSymlinks: 'any' })], sink.logger);
    const out = await server.files.resolve('/link-out/passwd', req);
    assert.equal(out?.size, 10);
    assert.equal((await readAll(await out!.open())).toString(), 'root:x:0:0');
    assert.equal((await server.files.resolve('/passwd-rel', req))?.size, 10, 'relative link out');
    assert.equal((await server.files.resolve('/link-in/undionly.kpxe', req))?.size, 70_000);
    // Only links the operator put in the tree lead out: request paths cannot.
    assert.equal(await server.files.resolve('/../outside/passwd', req), undefined);
    assert.equal(await server.files.hooks.resolve.promise({ path: '/../outside/passwd', protocol: 'http' }), undefined);
    assert.equal(sink.lines.find((l) => l['event'] === 'files.mount')?.['followSymlinks'], 'any');
  },
);

for (const openFiles of [256, 0]) {
  const replacedName = `a file replaced on disk is served new from the next request on; a read keeps its version (openFiles ${openFiles})`;
  test(replacedName, async (t) => {
    const { root } = makeTree(t);
    const { server } = await started(t, [sourceDisk({ root, openFiles })]);
    const first = (await server.files.resolve('/secret.txt', req))!;
    const stream = await first.open(); // opened before the replacement: reads one version whole
    writeFileSync(join(root, 'secret.new'), 'a new secret');
    utimesSync(join(root, 'secret.new'), 1_700_000_001, 1_700_000_001);
    renameSync(join(root, 'secret.new'), join(root, 'secret.txt'));
    const next = (await server.files.resolve('/secret.txt', req))!;
    assert.equal(next.size, 12);
    assert.notEqual(next.etag, first.etag);
    assert.equal((await readAll(await next.open())).toString(), 'a new secret');
    assert.equal((await readAll(stream)).toString(), 'secret');
    rmSync(join(root, 'secret.txt'));
    assert.equal(await server.files.resolve('/secret.txt', req), undefined, 'removed: not found');
  });
}

test('a folder served once, then swapped for a symlink out of the root, is refused from the next request on', async (t) => {
  const { dir, root } = makeTree(t);
  const sink = logSink();
  const { server } = await started(t, [sourceDisk({ root })], sink.logger);
  mkdirSync(join(root, 'cfg'));
  writeFileSync(join(root, 'cfg', 'passwd'), 'harmless');
  assert.equal((await server.files.resolve('/cfg/passwd', req))?.size, 8);
  assert.equal((await server.files.resolve('/cfg/passwd', req))?.size, 8, 'kept open');
  rmSync(join(root, 'cfg'), { recursive: true });
  symlinkSync(join(dir, 'outside'), join(root, 'cfg'));
  assert.equal(await server.files.resolve('/cfg/passwd', req), undefined);
  assert.ok(sink.lines.some((l) => l['event'] === 'files.denied' && l['path'] === '/cfg/passwd'));
});

test('followSymlinks: other values are refused by the options schema', () => {
  assert.throws(
    () =>
      createServer({
        log: { level: 'silent' },
        plugins: [sourceDisk({ root: '/tmp', followSymlinks: 'sometimes' } as never)],
      }),
    /followSymlinks/,
  );
});

test('optional: a missing root warns files.mount.missing with the fix and serves nothing; other sources still serve', async (t) => {
  const { root, dir } = makeTree(t);
  for (const missing of ['/nonexistent/pxekit-root', join(dir, 'outside', 'passwd')]) {
    const sink = logSink();
    const { server } = await started(
      t,
      [
        sourceDisk({ name: 'source-disk#opt', root: missing, optional: true, missingHint: 'apt install foo' }),
        sourceDisk({ root }),
      ],
      sink.logger,
    );
    const warn = sink.lines.find((l) => l['event'] === 'files.mount.missing');
    assert.ok(warn, `a files.mount.missing warning for ${missing}`);
    assert.equal(warn['root'], missing);
    assert.equal(warn['source'], 'source-disk#opt');
    assert.equal(warn['level'], 40);
    assert.match(String(warn['fix']), /^apt install foo, or create the folder/);
    assert.ok(!sink.lines.some((l) => l['event'] === 'files.mount' && l['source'] === 'source-disk#opt'));
    assert.equal((await server.files.resolve('/Boot/BCD', req))?.source, 'source-disk', 'the next source answers');
    assert.equal(await server.files.resolve('/nope', req), undefined);
  }
});

test('mount prefix, include and exclude globs', async (t) => {
  const { root } = makeTree(t);
  const { server } = await started(t, [
    sourceDisk({ root, mount: '/boot/', include: ['ipxe/**', '*.txt', 'Boot/*'], exclude: ['secret.*'] }),
  ]);
  assert.equal(await server.files.resolve('/ipxe/undionly.kpxe', req), undefined, 'outside the mount');
  assert.equal((await server.files.resolve('/boot/ipxe/undionly.kpxe', req))?.path, '/boot/ipxe/undionly.kpxe');
  assert.equal((await server.files.resolve('/boot/Boot/BCD', req))?.size, 3);
  assert.equal(await server.files.resolve('/boot/secret.txt', req), undefined, 'excluded');
  assert.equal(await server.files.resolve('/boot/empty.bin', req), undefined, 'not included');
  assert.equal(
    await server.files.resolve('/bootx/ipxe/undionly.kpxe', req),
    undefined,
    'a prefix must end at a segment',
  );
});

test('caseInsensitive resolves each segment regardless of case', async (t) => {
  const { root } = makeTree(t);
  const { server: strict } = await started(t, [sourceDisk({ root })]);
  assert.equal(await strict.files.resolve('/boot/bcd', req), undefined);
  const { server } = await started(t, [sourceDisk({ root, caseInsensitive: true })]);
  assert.equal((await server.files.resolve('/boot/bcd', req))?.size, 3);
  assert.equal((await server.files.resolve('/BOOT/Bcd', req))?.size, 3);
  assert.equal((await server.files.resolve('/IPXE/UNDIONLY.KPXE', req))?.size, 70_000);
  assert.equal(await server.files.resolve('/boot/bcd2', req), undefined);
  assert.equal(
    await server.files.resolve('/LINK-OUT/passwd', req),
    undefined,
    'case folding does not bypass the root check',
  );
});

test('overlay: two sources on one prefix, the first that has the file wins', async (t) => {
  const a = makeTree(t);
  const b = makeTree(t);
  writeFileSync(join(a.root, 'only-a.txt'), 'a');
  writeFileSync(join(b.root, 'only-b.txt'), 'bb');
  writeFileSync(join(a.root, 'both.txt'), 'from a');
  writeFileSync(join(b.root, 'both.txt'), 'from b!');
  const { server } = await started(t, [
    sourceDisk({ root: a.root, name: 'disk-a' }),
    sourceDisk({ root: b.root, name: 'disk-b' }),
  ]);
  const both = await server.files.resolve('/both.txt', req);
  assert.equal(both?.source, 'disk-a');
  assert.equal((await readAll(await both!.open())).toString(), 'from a');
  assert.equal(server.runner.decidedBy(both), 'disk-a');
  assert.equal((await server.files.resolve('/only-b.txt', req))?.source, 'disk-b');
  assert.equal((await server.files.resolve('/only-a.txt', req))?.source, 'disk-a');
});

test('a missing root fails start-up with a clear error; relative roots use the cwd', async (t) => {
  const server = createServer({
    dhcp: { mode: 'off' },
    tftp: { enabled: false },
    http: { enabled: false },
    log: { level: 'silent' },
    plugins: [sourceDisk({ root: '/nonexistent/pxekit-root' })],
  });
  await assert.rejects(
    server.start(),
    (err: Error & { cause?: { fix?: string } }) =>
      /root folder \/nonexistent\/pxekit-root is not usable/.test(err.message) &&
      /optional: true/.test(String(err.cause?.fix)),
  );
  const { dir } = makeTree(t);
  const cwd = process.cwd();
  process.chdir(dir);
  t.after(() => process.chdir(cwd));
  const { server: rel } = await started(t, [sourceDisk({ root: 'root' })]);
  assert.equal((await rel.files.resolve('/Boot/BCD', req))?.size, 3);
});

test('an instance named by a config ref (source-disk#ipxe) reports that name', async (t) => {
  const { root } = makeTree(t);
  const sink = logSink();
  const { resolvePlugins } = await import('pxekit');
  const { plugins } = await resolvePlugins([['source-disk#ipxe', { root }]], { baseDir: process.cwd() });
  const { server } = await started(t, plugins, sink.logger);
  assert.equal((await server.files.resolve('/Boot/BCD', req))?.source, 'source-disk#ipxe');
  assert.equal(sink.lines.find((l) => l['event'] === 'files.mount')?.['source'], 'source-disk#ipxe');
});

test('options are validated', () => {
  assert.throws(() => createServer({ log: { level: 'silent' }, plugins: [sourceDisk({} as never)] }), /root/);
  assert.throws(
    () => createServer({ log: { level: 'silent' }, plugins: [sourceDisk({ root: '/tmp', bogus: 1 } as never)] }),
    /bogus|additional/,
  );
});
