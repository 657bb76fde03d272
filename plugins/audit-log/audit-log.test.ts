import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, runPluginCommand, verifyAuditFiles } from 'pxekit';
import { GENESIS, parseLine, sha256Hex } from 'pxekit/kit';
import auditLog from './index.js';

async function tmp(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'pxekit-audit-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function lines(text: string): Array<Record<string, unknown>> {
  return text
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

test('one chained record per boot event, with client, asked, decided, plugin, bytes and duration', async (t) => {
  const dir = await tmp(t);
  const server = createServer({
    log: { level: 'silent' },
    dhcp: { mode: 'off' },
    tftp: { enabled: false },
    http: { enabled: false },
    plugins: [auditLog({ file: join(dir, 'audit.jsonl') })],
  });
  await server.start();
  const session = server.sessions.upsert('52:54:00:12:34:56', {
    ip: '10.0.0.5',
    arch: 7,
    archName: 'x64-uefi',
    firmware: 'uefi',
  });
  server.emit({
    type: 'dhcp.offer',
    protocol: 'dhcp',
    outcome: 'ok',
    mac: session.mac,
    session,
    plugin: 'boot-by-arch',
    data: { messageType: 'DISCOVER', bootFile: 'ipxe.efi', reason: 'arch 7' },
  });
  server.emit({
    type: 'tftp.done',
    protocol: 'tftp',
    outcome: 'ok',
    ip: '10.0.0.5',
    session,
    plugin: 'source-disk',
    data: { path: '/ipxe.efi', bytes: 1024, durationMs: 12.5, retransmits: 0, blob: Buffer.from('hi') },
  });
  server.emit({
    type: 'admit.deny',
    protocol: 'http',
    outcome: 'denied',
    mac: 'aa:bb:cc:dd:ee:ff',
    plugin: 'mac-allowlist',
    data: { reason: 'not in the allowlist', path: '/boot.ipxe' },
  });
  await server.close();
  const recs = lines(await readFile(join(dir, 'audit.jsonl'), 'utf8'));
  assert.equal(recs.length, 3);
  assert.deepEqual(
    recs.map((r) => r['seq']),
    [1, 2, 3],
  );
  assert.equal(recs[0]!['prev'], GENESIS);
  const [offer, done, deny] = recs as [Record<string, unknown>, Record<string, unknown>, Record<string, unknown>];
  assert.equal(offer['type'], 'dhcp.offer');
  assert.equal(offer['mac'], '52:54:00:12:34:56');
  assert.equal(offer['ip'], '10.0.0.5');
  assert.equal(offer['arch'], 7);
  assert.equal(offer['archName'], 'x64-uefi');
  assert.equal(offer['asked'], 'DISCOVER');
  assert.equal(offer['decision'], 'ipxe.efi');
  assert.equal(offer['plugin'], 'boot-by-arch');
  assert.equal(typeof offer['time'], 'string');
  assert.equal(done['asked'], '/ipxe.efi');
  assert.equal(done['bytes'], 1024);
  assert.equal(done['durationMs'], 12.5);
  assert.deepEqual(done['data'], { retransmits: 0, blob: '6869' });
  assert.equal(deny['outcome'], 'denied');
  assert.equal(deny['decision'], 'not in the allowlist');
  assert.equal(deny['plugin'], 'mac-allowlist');
  const v = await verifyAuditFiles([join(dir, 'audit.jsonl')]);
  assert.equal(v.ok, true, JSON.stringify(v.bad));
  assert.equal(v.records, 3);
});

test('a tampered line fails verify at that line; removed lines and broken links are found too', async (t) => {
  const dir = await tmp(t);
  const file = join(dir, 'audit.jsonl');
  const server = createServer({
    log: { level: 'silent' },
    dhcp: { mode: 'off' },
    tftp: { enabled: false },
    http: { enabled: false },
    plugins: [auditLog({ file })],
  });
  await server.start();
  for (let i = 0; i < 6; i++)
    server.emit({
      type: 'tftp.done',
      protocol: 'tftp',
      outcome: 'ok',
      ip: `10.0.0.${i + 1}`,
      data: { path: `/f${i}`, bytes: i * 100 },
    });
  await server.close();
  const original = await readFile(file, 'utf8');
  const out: string[] = [];
  const io = { out: (s: string) => out.push(s), err: (s: string) => out.push(s) };
  assert.equal(await runPluginCommand(['audit', 'verify', file], io), 0, out.join('\n'));

  // Edit line 4 (an IP) without fixing anything: its own hash no longer matches.
  const ls = original.trimEnd().split('\n');
  const edited = [...ls];
  edited[3] = edited[3]!.replace('"ip":"10.0.0.4"', '"ip":"10.0.0.9"');
  assert.notEqual(edited[3], ls[3]);
  await writeFile(file, `${edited.join('\n')}\n`);
  out.length = 0;
  assert.equal(await runPluginCommand(['audit', 'verify', file], io), 1);
  assert.match(out[0]!, /audit\.jsonl:4: content does not match/);

  // Remove line 3: the seq gap shows at the line after it (now line 3).
  await writeFile(file, `${ls.filter((_, i) => i !== 2).join('\n')}\n`);
  const gap = await verifyAuditFiles([file]);
  assert.equal(gap.bad?.line, 3);
  assert.match(gap.bad!.reason, /seq jumps from 2 to 4/);

  // Rewrite line 2 consistently (new content, new self-hash): line 3's prev no longer matches.
  const p = parseLine(ls[1]!);
  assert.ok(p.ok);
  const { hash: _h, ...rec } = p.record;
  const body = JSON.stringify({ ...rec, bytes: 999999 });
  const forged = `${body.slice(0, -1)},"hash":"${sha256Hex(body)}"}`;
  await writeFile(file, `${[ls[0], forged, ...ls.slice(2)].join('\n')}\n`);
  const link = await verifyAuditFiles([file]);
  assert.equal(link.bad?.line, 3);
  assert.match(link.bad!.reason, /"prev" does not match/);
});

test('rotation keeps the chain across files, keeps `keep` files, and a restart continues the chain', async (t) => {
  const dir = await tmp(t);
  const file = join(dir, 'audit.jsonl');
  const mk = () =>
    createServer({
      log: { level: 'silent' },
      dhcp: { mode: 'off' },
      tftp: { enabled: false },
      http: { enabled: false },
      plugins: [auditLog({ file, rotateBytes: 4096, keep: 3, fsyncIntervalMs: 0 })],
    });
  let server = mk();
  await server.start();
  for (let i = 0; i < 60; i++) {
    server.emit({
      type: 'http.get',
      protocol: 'http',
      outcome: 'ok',
      ip: '10.0.0.7',
      data: { path: `/file-${i}`, status: 200, bytes: 4096, durationMs: 1 },
    });
    // Let the writer take small batches, so rotation happens between batches several times.
    if (i % 5 === 4) await new Promise((r) => setImmediate(r));
  }
  await server.close();
  server = mk();
  await server.start();
  server.emit({
    type: 'http.get',
    protocol: 'http',
    outcome: 'ok',
    ip: '10.0.0.7',
    data: { path: '/after-restart', status: 200, bytes: 1 },
  });
  await server.close();

  const names = (await readdir(dir)).sort();
  assert.deepEqual(names, ['audit.jsonl', 'audit.jsonl.1', 'audit.jsonl.2', 'audit.jsonl.3']);
  const files = [`${file}.3`, `${file}.2`, `${file}.1`, file];
  const v = await verifyAuditFiles(files);
  assert.equal(v.ok, true, JSON.stringify(v.bad));
  assert.equal(v.lastSeq, 61);
  assert.equal(v.partial, true, 'the oldest files were rotated away, so the chain starts mid-way');
  // Each file on its own verifies too; the current file's first record links to .1's last line.
  const first = lines(await readFile(file, 'utf8'))[0]!;
  const prevFile = (await readFile(`${file}.1`, 'utf8')).trimEnd().split('\n');
  assert.equal(first['prev'], sha256Hex(prevFile[prevFile.length - 1]!));
  // Verifying files out of order breaks the link.
  const wrong = await verifyAuditFiles([`${file}.2`, `${file}.3`]);
  assert.equal(wrong.ok, false);
});

test('a full queue drops the oldest and the next record says how many were lost', async (t) => {
  const dir = await tmp(t);
  const file = join(dir, 'audit.jsonl');
  const server = createServer({
    log: { level: 'silent' },
    dhcp: { mode: 'off' },
    tftp: { enabled: false },
    http: { enabled: false },
    plugins: [auditLog({ file, queueSize: 16 })],
  });
  await server.start();
  // 100 events in one tick: the writer cannot run in between, so 84 are dropped.
  for (let i = 0; i < 100; i++)
    server.emit({ type: 'tftp.request', protocol: 'tftp', outcome: 'info', data: { path: `/n${i}` } });
  await server.close();
  const recs = lines(await readFile(file, 'utf8'));
  assert.equal(recs.length, 16);
  assert.equal(recs[0]!['lost'], 84);
  assert.equal(recs[0]!['asked'], '/n84');
  assert.equal(recs[1]!['lost'], undefined);
  assert.equal((await verifyAuditFiles([file])).ok, true);
});

test('options: neither file nor stdout is refused', () => {
  assert.throws(
    () => createServer({ log: { level: 'silent' }, plugins: [auditLog({})] }),
    /set "file", "stdout: true", or both/,
  );
});

test('an unwritable location fails start with PXE_ERR_AUDIT_WRITE', async (t) => {
  const dir = await tmp(t);
  await writeFile(join(dir, 'not-a-dir'), 'x');
  const server = createServer({
    log: { level: 'silent' },
    dhcp: { mode: 'off' },
    tftp: { enabled: false },
    http: { enabled: false },
    plugins: [auditLog({ file: join(dir, 'not-a-dir', 'audit.jsonl') })],
  });
  await assert.rejects(
    server.start(),
    (err: Error & { code?: string }) => err.code === 'PXE_ERR_HOOK_FAILED' || err.code === 'PXE_ERR_AUDIT_WRITE',
  );
  await server.close();
});

test('stdout: each record as a pino JSON line (event audit.record), independent of the server log level', async () => {
  const { spawnSync } = await import('node:child_process');
  const script = `
    import { createServer } from 'pxekit';
    import auditLog from 'pxekit/plugins/audit-log';
    const server = createServer({
      log: { level: 'silent' },
      dhcp: { mode: 'off' },
      tftp: { enabled: false },
      http: { enabled: false },
      plugins: [auditLog({ stdout: true })],
    });
    await server.start();
    server.emit({
      type: 'http.get',
      protocol: 'http',
      outcome: 'ok',
      ip: '10.0.0.1',
      data: { path: '/a', bytes: 3, source: 'source-disk' },
    });
    await server.close();
  `;
  const r = spawnSync(
    process.execPath,
    ['--conditions=source', '--import', 'tsx', '--input-type=module', '-e', script],
    {
      cwd: new URL('../../', import.meta.url).pathname,
      encoding: 'utf8',
      timeout: 30_000,
    },
  );
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  const rec = lines.find((l) => l['event'] === 'audit.record');
  assert.ok(rec, r.stdout);
  assert.equal(rec['type'], 'http.get');
  assert.equal(rec['asked'], '/a');
  assert.equal(rec['plugin'], 'source-disk', 'a transfer names the source that served it');
  assert.equal(rec['seq'], 1);
});
