/**
 * A 100 MiB file from each source (disk, S3 via s3rver, git) streamed through HTTP (curl) and TFTP
 * (atftp windowed, else curl) with this process's memory staying bounded, and the bytes checked by hash. S3 and
 * git have their cache on: the HTTP request follows the fill of the cache file, TFTP reads the cached file.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createReadStream, mkdtempSync, openSync, rmSync, writeSync, closeSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { pino } from 'pino';
import { createServer } from '../../../core/create-server.js';
import type { PxeServer } from '../../../core/server.js';
import { TftpServer } from '../../../core/tftp/server.js';
import sourceDisk from '../../../plugins/source-disk/index.js';
import sourceS3 from '../../../plugins/source-s3/index.js';
import sourceGit from '../../../plugins/source-git/index.js';
import { run } from '../../helpers/proc.js';
import { GitFixture } from './git-fixture.js';
import { S3rver, S3RVER_KEYS } from './s3rver.js';
import { patternBytes } from './helpers.js';

const MiB = 1 << 20;
const SIZE = 100 * MiB;
/** Generous: a source that buffered the file would grow by at least its 100 MiB. */
const MAX_GROWTH = 64 * MiB;
const which = (b: string) =>
  run('sh', ['-c', `command -v ${b}`], { timeoutMs: 5_000 }).then((r) => (r.code === 0 ? r.stdout.trim() : undefined));

const dir = mkdtempSync(join(tmpdir(), 'pxekit-large-'));
const bigPath = join(dir, 'big.bin');
let bigSha = '';
const s3 = new S3rver();
const fx = new GitFixture();
let curl: string | undefined;
let atftp: string | undefined;

before(async () => {
  curl = await which('curl');
  atftp = await which('atftp');
  // Written in 1 MiB chunks: the test process never holds the whole file.
  const h = createHash('sha256');
  const fd = openSync(bigPath, 'w');
  for (let i = 0; i < SIZE / MiB; i++) {
    const chunk = patternBytes(MiB, i + 1);
    h.update(chunk);
    writeSync(fd, chunk);
  }
  closeSync(fd);
  bigSha = h.digest('hex');
});
after(async () => {
  await s3.cleanup();
  fx.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

async function fileSha(p: string): Promise<string> {
  const h = createHash('sha256');
  for await (const c of createReadStream(p)) h.update(c as Buffer);
  return h.digest('hex');
}

/** Runs `transfer` while sampling RSS; returns the growth over the baseline. */
async function measured(transfer: () => Promise<void>): Promise<number> {
  globalThis.gc?.();
  const base = process.memoryUsage().rss;
  let peak = base;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 20);
  try {
    await transfer();
  } finally {
    clearInterval(sampler);
  }
  return Math.max(peak, process.memoryUsage().rss) - base;
}

async function serveBoth(
  t: { after(fn: () => Promise<void>): void; diagnostic(s: string): void },
  label: string,
  server: PxeServer,
  path: string,
): Promise<void> {
  const listening = await server.start();
  t.after(() => server.close());
  const http = listening.find((l) => l.protocol === 'http');
  assert.ok(http);
  const out = join(dir, `${label}.http`);
  const httpGrowth = await measured(async () => {
    // Rate-limited client: without backpressure the body would pile up in memory.
    const r = await run(
      curl!,
      [
        '-sS',
        '--http1.1',
        '--limit-rate',
        '100M',
        '-o',
        out,
        '-w',
        '%{http_code} %{size_download}',
        `http://127.0.0.1:${http.port}${path}`,
      ],
      { timeoutMs: 120_000 },
    );
    assert.equal(r.stdout.trim(), `200 ${SIZE}`, r.stderr);
  });
  assert.equal(await fileSha(out), bigSha, `${label}: HTTP bytes`);
  rmSync(out);
  t.diagnostic(`${label} HTTP: RSS growth ${(httpGrowth / MiB).toFixed(1)} MiB`);
  assert.ok(httpGrowth < MAX_GROWTH, `${label} HTTP RSS grew ${(httpGrowth / MiB).toFixed(1)} MiB`);

  // TFTP: the protocol engine (core/tftp) fed by the same virtual tree.
  const tftp = new TftpServer(
    { port: 0, address: '127.0.0.1', log: pino({ level: 'silent' }), mtuBlksize: false, closeGraceMs: 200 },
    { resolve: (p) => server.files.resolve(p, { protocol: 'tftp', clientAddress: '127.0.0.1' }) },
  );
  const { port } = await tftp.listen();
  t.after(() => tftp.close());
  const tout = join(dir, `${label}.tftp`);
  const tftpGrowth = await measured(async () => {
    const r = atftp
      ? await run(
          atftp,
          [
            '--option',
            'blksize 1468',
            '--option',
            'windowsize 16',
            '-g',
            '-r',
            path.slice(1),
            '-l',
            tout,
            '127.0.0.1',
            String(port),
          ],
          { timeoutMs: 180_000 },
        )
      : await run(curl!, ['-sS', '--tftp-blksize', '1468', '-o', tout, `tftp://127.0.0.1:${port}${path}`], {
          timeoutMs: 180_000,
        });
    assert.equal(r.code, 0, r.stderr);
  });
  assert.equal(statSync(tout).size, SIZE);
  assert.equal(await fileSha(tout), bigSha, `${label}: TFTP bytes`);
  rmSync(tout);
  t.diagnostic(`${label} TFTP: RSS growth ${(tftpGrowth / MiB).toFixed(1)} MiB`);
  assert.ok(tftpGrowth < MAX_GROWTH, `${label} TFTP RSS grew ${(tftpGrowth / MiB).toFixed(1)} MiB`);
}

const mk = (plugins: unknown[]) =>
  createServer({
    log: { level: 'silent' },
    dhcp: { mode: 'off' },
    tftp: { enabled: false },
    http: { port: 0, address: '127.0.0.1' },
    plugins: plugins as never,
  });

test('100 MiB from source-disk over HTTP and TFTP, memory bounded', { timeout: 300_000 }, async (t) => {
  if (!curl) return t.skip('curl is not installed');
  await serveBoth(t, 'disk', mk([sourceDisk({ root: dir })]), '/big.bin');
});

test(
  '100 MiB from source-s3 (s3rver, cache on) over HTTP and TFTP, memory bounded',
  { timeout: 300_000 },
  async (t) => {
    if (!curl) return t.skip('curl is not installed');
    await s3.start();
    await s3.put(
      'large/big.bin',
      Readable.toWeb(createReadStream(bigPath)) as unknown as WebReadableStream<Uint8Array> as never,
      SIZE,
    );
    await serveBoth(
      t,
      's3',
      // Cache on: HTTP follows the fill of the cache file, TFTP then reads the cached file.
      mk([
        sourceS3({
          bucket: 'boot',
          endpoint: s3.endpoint,
          ...S3RVER_KEYS,
          prefix: 'large',
          cache: { dir: join(dir, 's3-cache'), maxBytes: 2 * SIZE },
        }),
      ]),
      '/big.bin',
    );
  },
);

test('100 MiB from source-git (blob cache on) over HTTP and TFTP, memory bounded', { timeout: 300_000 }, async (t) => {
  if (!curl) return t.skip('curl is not installed');
  await fx.init({ 'README.md': 'large' });
  await run('cp', [bigPath, join(fx.work, 'big.bin')], { timeoutMs: 30_000 });
  await fx.commit({}, 'big');
  await fx.push();
  await serveBoth(
    t,
    'git',
    mk([sourceGit({ repo: fx.bare, ref: 'main', cacheDir: fx.cache, refreshSeconds: 0 })]),
    '/big.bin',
  );
});
