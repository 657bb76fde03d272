/**
 * The status page in headless Chromium: a client appears and moves DHCP → TFTP → HTTP → done while
 * the test boots it (DHCP through inject, HTTP over the real listener), hostile strings stay text,
 * and a screenshot lands in test-output/status.png.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createServer } from '../../../core/server.js';
import { syntheticDiscoverBuffer } from '../../../core/explain/discover.js';
import bootByArch from '../../../plugins/boot-by-arch/index.js';
import sourceDisk from '../../../plugins/source-disk/index.js';
import status from '../../../plugins/status/index.js';

/** Used inside page functions (they run in Chromium); node's lib has no DOM types. */
declare const document: {
  getElementById(id: string): { textContent: string | null } | null;
  querySelector(selector: string): { textContent: string | null } | null;
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
      dhcp: { mode: 'proxy', serverAddress: '127.0.0.1' },
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
