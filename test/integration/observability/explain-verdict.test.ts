/**
 * `pxekit explain` through the real command (bin/pxekit.js → dist/): exit 1 with the reason and the fix when
 * the client would not boot (the quickstart's arm64 gap, no boot plugin), and iPXE scripts rendered with the
 * address the server would use (--local, else the DHCP answer's), never `tftp:///`.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const QUICKSTART = join(ROOT, 'examples/quickstart');

function explain(args: string[], cwd = QUICKSTART): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const bin = join(ROOT, 'bin/pxekit.js');
    execFile(process.execPath, [bin, 'explain', ...args], { cwd, timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}

test('explain --arch arm64 on the quickstart exits 1: the boot file is in no source, with the fix', async () => {
  const r = await explain(['--mac', '52:54:00:aa:64:01', '--arch', 'arm64']);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /TFTP snp-arm64\.efi → NOT FOUND in any source/);
  assert.match(
    r.stdout,
    /^6\. Result: NO BOOT — snp-arm64\.efi is in no source: the client would get "file not found"$/m,
  );
  assert.match(
    r.stdout,
    new RegExp(
      /^ {3}Fix: put snp-arm64\.efi where a source serves it \(source-disk: \.\/boot, source-disk#ipxe: \/usr\/lib\/ipxe\), /
        .source +
        /or change what boot-by-arch hands out for arm64 in pxekit\.config\.yaml /.source +
        /\(plugins\/boot-by-arch\/README\.md says where each file comes from\)$/.source,
      'm',
    ),
  );
  const json = await explain(['--mac', '52:54:00:aa:64:01', '--arch', 'arm64', '--json']);
  assert.equal(json.code, 1);
  assert.equal((JSON.parse(json.stdout) as { verdict: { boots: boolean } }).verdict.boots, false);
});

test('explain renders iPXE scripts with the server address: --local, else the one DHCP answers from', async () => {
  const local = await explain(['--mac', '52:54:00:b1:05:02', '--arch', 'bios', '--ipxe', '--local', '10.1.2.3']);
  assert.equal(local.code, 0, local.stdout + local.stderr);
  assert.match(local.stdout, /\| imgfetch --name probe tftp:\/\/10\.1\.2\.3\/tftp-probe\.txt/);
  assert.match(local.stdout, /\| echo server {2}HTTP http:\/\/10\.1\.2\.3, TFTP 10\.1\.2\.3/);
  assert.match(local.stdout, /^6\. Result: boots — the client gets http:\/\/10\.1\.2\.3\/boot\.ipxe\?mac=/m);
  const inferred = await explain(['--mac', '52:54:00:b1:05:02', '--arch', 'bios', '--ipxe']);
  assert.equal(inferred.code, 0, inferred.stdout + inferred.stderr);
  assert.doesNotMatch(inferred.stdout, /tftp:\/\/\//);
  const sid = /serverIdentifier\s+"([\d.]+)"/.exec(inferred.stdout)?.[1];
  const addr = sid ?? /scripts use ([\d.]+)/.exec(inferred.stdout)?.[1];
  assert.ok(addr, inferred.stdout);
  assert.match(inferred.stdout, new RegExp(`tftp://${addr.replace(/\./g, '\\.')}/tftp-probe\\.txt`));
});

test('explain exits 1 when no plugin chooses a boot file, naming the arch key to add', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pxekit-explain-'));
  writeFileSync(join(dir, 'pxekit.config.yaml'), 'dhcp:\n  mode: proxy\nplugins:\n  - [source-disk, { root: . }]\n');
  const r = await explain(['--mac', '52:54:00:00:00:07', '--arch', '11'], dir);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /6\. Result: NO BOOT — no plugin chose a boot file for option 93 = 11 \(arm64\)/);
  assert.match(r.stdout, /Fix: add a boot file for this architecture, e\.g\. boot-by-arch with \{ arm64: FILE \}/);
});
