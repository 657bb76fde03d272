/**
 * The status page in headless Chromium: a client appears and moves DHCP → TFTP → HTTP → done while
 * the test boots it (DHCP through inject, HTTP over the real listener), hostile strings stay text,
 * and a screenshot lands in test-output/status.png.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createServer } from '../../../core/create-server.js';
import { syntheticDiscoverBuffer } from '../../../core/explain/discover.js';
import bootByArch from '../../../plugins/boot-by-arch/index.js';
import sourceDisk from '../../../plugins/source-disk/index.js';
import status from '../../../plugins/status/index.js';

/** Used inside page functions (they run in Chromium); node's lib has no DOM types. */
declare const document: {
  body: unknown;
  getElementById(id: string): { textContent: string | null } | null;
  querySelector(selector: string): { textContent: string | null } | null;
  createTreeWalker(root: unknown, what: number): { nextNode(): { textContent: string | null } | null };
  createRange(): {
    setStart(node: unknown, offset: number): void;
    setEnd(node: unknown, offset: number): void;
    getClientRects(): Iterable<{ top: number; width: number }>;
  };
};

const CHROMIUM = '/usr/bin/chromium';
const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed (Debian package chromium)`;

test(
  'status page: live client through the stages, escaped denials, screenshot',
  { skip, timeout: 90_000 },
  async (t) => {
    const { chromium } = await import('playwright-core');
    const base = await mkdtemp(join(tmpdir(), 'pxekit-status-'));
    t.after(() => rm(base, { recursive: true, force: true }));
    const root = join(base, 'boot');
    await mkdir(root);
    await writeFile(join(root, 'ipxe.efi'), Buffer.alloc(256 * 1024, 1));
    await writeFile(join(root, 'boot.ipxe'), '#!ipxe\nexit\n');

    const server = createServer({
      log: { level: 'silent' },
      dhcp: { mode: 'proxy', serverAddress: '127.0.0.1', port: 0, pxePort: 0 },
      tftp: { enabled: false },
      http: { port: 0, address: '127.0.0.1' },
      plugins: [status({ updateIntervalMs: 50, doneAfterMs: 1500 }), bootByArch(), sourceDisk({ root })],
    });
    await server.start();
    t.after(() => server.close());
    const port = server.listening.find((l) => l.protocol === 'http')!.port;

    const profile = await mkdtemp(join(tmpdir(), 'pxekit-chromium-'));
    t.after(() => rm(profile, { recursive: true, force: true }));
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
      viewport: { width: 1280, height: 720 },
    });
    t.after(() => context.close());
    const page = context.pages()[0] ?? (await context.newPage());
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('dialog', (d) => {
      pageErrors.push(`dialog: ${d.message()}`);
      void d.dismiss();
    });

    await page.goto(`http://127.0.0.1:${port}/status`);
    await page.waitForSelector('#live.live', { timeout: 10_000 });
    assert.equal(await page.isVisible('#empty'), true, 'no clients yet');

    const mac = '52:54:00:5a:7e:01';
    const row = (stage: string) =>
      page.waitForSelector(`tr[data-id="${mac}"][data-stage="${stage}"]`, { timeout: 10_000 });

    // DHCP: a UEFI x64 DISCOVER through the real pipeline (proxy mode, boot-by-arch decides).
    const replies = await server.inject.dhcp(syntheticDiscoverBuffer({ mac, arch: 7 }), {
      local: { address: '127.0.0.1' },
    });
    assert.ok(replies.length >= 1, 'the proxy answers');
    await row('dhcp');
    assert.match((await page.textContent(`tr[data-id="${mac}"]`)) ?? '', /x64-uefi \(7\)/);

    // TFTP: the TFTP listener is not part of this test; the event it emits for a finished transfer.
    server.sessions.upsert(mac, { ip: '127.0.0.1' });
    server.emit({
      type: 'tftp.done',
      protocol: 'tftp',
      outcome: 'ok',
      mac,
      ip: '127.0.0.1',
      session: server.sessions.get(mac)!,
      data: { path: '/ipxe.efi', bytes: 262144, durationMs: 40 },
    });
    await row('tftp');

    // HTTP: a real GET on the listener, tied to the client by source IP (as iPXE would fetch its script).
    const got = await fetch(`http://127.0.0.1:${port}/boot.ipxe`);
    assert.equal(got.status, 200);
    await row('http');
    await page.waitForFunction(
      (m) => document.querySelector(`tr[data-id="${m}"]`)?.textContent?.includes('/boot.ipxe'),
      mac,
      { timeout: 10_000 },
    );

    // Quiet after a finished download: done.
    await row('done');

    // A hostile client: its strings must show as text, never become markup.
    const evil = '<img src=x onerror="alert(1)">';
    server.emit({
      type: 'admit.deny',
      protocol: 'http',
      outcome: 'denied',
      mac: '66:66:66:66:66:66',
      plugin: 'mac-allowlist',
      data: { reason: evil, path: `/${evil}` },
    });
    server.emit({
      type: 'tftp.error',
      protocol: 'tftp',
      outcome: 'error',
      ip: '127.0.0.9',
      data: { path: '/grubx64.efi', reason: 'timeout: client stopped acknowledging', code: 0 },
    });
    await page.waitForFunction((s) => document.getElementById('denials')?.textContent?.includes(s), evil, {
      timeout: 10_000,
    });
    await page.waitForFunction(
      () => document.getElementById('errors')?.textContent?.includes('client stopped acknowledging'),
      undefined,
      { timeout: 10_000 },
    );
    assert.equal(await page.locator('img').count(), 0, 'no element was created from client data');
    await page.waitForSelector('tr[data-id="66:66:66:66:66:66"][data-stage="failed"]', { timeout: 10_000 });

    // A second client mid-boot, so the screenshot shows several stages.
    await server.inject.dhcp(syntheticDiscoverBuffer({ mac: '52:54:00:5a:7e:02', arch: 0, ipxe: true }), {
      local: { address: '127.0.0.1' },
    });
    await server.inject.dhcp(syntheticDiscoverBuffer({ mac: '52:54:00:5a:7e:03', arch: 11 }), {
      local: { address: '127.0.0.1' },
    });
    server.emit({
      type: 'tftp.oack',
      protocol: 'tftp',
      outcome: 'info',
      mac: '52:54:00:5a:7e:03',
      data: { path: '/snp-arm64.efi' },
    });
    await page.waitForSelector('tr[data-id="52:54:00:5a:7e:03"][data-stage="tftp"]', { timeout: 10_000 });

    const counts = await page.evaluate(() =>
      ['n-active', 'n-done', 'n-failed'].map((id) => document.getElementById(id)?.textContent),
    );
    assert.deepEqual(
      counts,
      ['2', '1', '2'],
      'booting: 02 and 03; done: 01; failed: the denied MAC and the IP-only TFTP error',
    );
    assert.deepEqual(pageErrors, []);

    const out = resolve('test-output');
    await mkdir(out, { recursive: true });
    const shot = join(out, 'status.png');
    await page.screenshot({ path: shot, fullPage: true });
    process.stdout.write(`# status page screenshot: ${shot}\n`);
  },
);

test(
  'status page: server header, a kernel 404 shown as failed with its reason, a quiet client stalled, no word broken',
  { skip, timeout: 90_000 },
  async (t) => {
    const { chromium } = await import('playwright-core');
    const base = await mkdtemp(join(tmpdir(), 'pxekit-status2-'));
    t.after(() => rm(base, { recursive: true, force: true }));
    await writeFile(join(base, 'boot.ipxe'), '#!ipxe\nkernel /vmlinuz\nboot\n');
    const server = createServer({
      log: { level: 'silent' },
      dhcp: { mode: 'proxy', serverAddress: '127.0.0.1', port: 0, pxePort: 0 },
      tftp: { enabled: false },
      http: { port: 0, address: '127.0.0.1' },
      plugins: [
        status({ updateIntervalMs: 50, doneAfterMs: 60_000, failAfterMissMs: 1000, stallAfterMs: 2000 }),
        bootByArch(),
        sourceDisk({ root: base }),
      ],
    });
    await server.start();
    t.after(() => server.close());
    const port = server.listening.find((l) => l.protocol === 'http')!.port;
    const profile = await mkdtemp(join(tmpdir(), 'pxekit-chromium-'));
    t.after(() => rm(profile, { recursive: true, force: true }));
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
      viewport: { width: 1000, height: 900 }, // two columns, the notices one at its narrowest
    });
    t.after(() => context.close());
    const page = context.pages()[0] ?? (await context.newPage());
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(`http://127.0.0.1:${port}/status`);
    await page.waitForSelector('#live.live', { timeout: 10_000 });

    // Header: version, DHCP mode, listeners, uptime counting.
    const { version } = JSON.parse(await readFile(resolve('package.json'), 'utf8')) as { version: string };
    assert.equal(await page.textContent('#s-version'), version);
    assert.equal(await page.textContent('#s-mode'), 'proxy');
    assert.match((await page.textContent('#s-listeners')) ?? '', new RegExp(`http 127\\.0\\.0\\.1:${port}`));
    assert.match((await page.textContent('#s-uptime')) ?? '', /^\d+ s$/);

    // A client whose script loads but whose kernel is missing: HTTP 404, then nothing.
    const mac = '52:54:00:5a:7e:11';
    await server.inject.dhcp(syntheticDiscoverBuffer({ mac, arch: 0, ipxe: true }), {
      local: { address: '127.0.0.1' },
    });
    server.sessions.upsert(mac, { ip: '127.0.0.1' });
    assert.equal((await fetch(`http://127.0.0.1:${port}/boot.ipxe`)).status, 200);
    assert.equal((await fetch(`http://127.0.0.1:${port}/vmlinuz`)).status, 404);
    await page.waitForSelector(`tr[data-id="${mac}"][data-stage="failed"]`, { timeout: 10_000 });
    const failedRow = (await page.textContent(`tr[data-id="${mac}"]`)) ?? '';
    assert.match(failedRow, /\/vmlinuz: HTTP 404 not found/);
    // The clock stopped: the elapsed cell is not counting any more.
    const elapsed = await page.textContent(`tr[data-id="${mac}"] td.elapsed`);
    await new Promise((r) => setTimeout(r, 2100));
    assert.equal(await page.textContent(`tr[data-id="${mac}"] td.elapsed`), elapsed);

    // A client that got its offer and then went quiet: stalled, with why.
    const quiet = '52:54:00:5a:7e:12';
    await server.inject.dhcp(syntheticDiscoverBuffer({ mac: quiet, arch: 7 }), { local: { address: '127.0.0.1' } });
    await page.waitForSelector(`tr[data-id="${quiet}"][data-stage="stalled"]`, { timeout: 10_000 });
    assert.match((await page.textContent(`tr[data-id="${quiet}"]`)) ?? '', /no request for \d+ s after dhcp\./);
    assert.equal(await page.textContent('#n-stalled'), '1');
    assert.equal(await page.textContent('#n-failed'), '1');

    // Notices with dotted event names: no word may be split across lines anywhere on the page.
    for (let i = 0; i < 3; i++)
      server.emit({
        type: 'admit.deny',
        protocol: 'http',
        outcome: 'denied',
        mac: `66:66:66:66:66:6${i}`,
        plugin: 'mac-allowlist#lab',
        data: { reason: 'not in the allowlist', path: '/boot.ipxe' },
      });
    await page.waitForFunction(
      () => (document.getElementById('denials')?.textContent ?? '').includes('admit.deny'),
      undefined,
      {
        timeout: 10_000,
      },
    );
    const broken = await page.evaluate(() => {
      const out: string[] = [];
      const walker = document.createTreeWalker(document.body, 4 /* NodeFilter.SHOW_TEXT */);
      for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        const text = n.textContent ?? '';
        for (const m of text.matchAll(/[^\s—→]{2,40}/g)) {
          const r = document.createRange();
          r.setStart(n, m.index);
          r.setEnd(n, m.index + m[0].length);
          const tops = new Set([...r.getClientRects()].filter((x) => x.width > 0).map((x) => Math.round(x.top)));
          if (tops.size > 1) out.push(m[0]);
        }
      }
      return out;
    });
    assert.deepEqual(broken, [], 'words broken across lines');
    assert.deepEqual(pageErrors, []);
    const out = resolve('test-output');
    await mkdir(out, { recursive: true });
    await page.screenshot({ path: join(out, 'status-failed-stalled.png'), fullPage: true });
  },
);
