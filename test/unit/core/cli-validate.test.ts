/**
 * `pxekit validate` through the real command (bin/pxekit.js → dist/, built by test/run.sh): one pass lists
 * every problem of a file, readiness checks of the plugin contract run without sockets, boot files that
 * no source has are warnings (errors with --strict), and broken files (empty, a folder, bad JSON) say so.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BIN = join(ROOT, 'bin/pxekit.js');

/** Runs the CLI; resolves with its exit code and output (never rejects on a non-zero exit). */
export function pxekit(
  args: string[],
  cwd?: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { cwd, env, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

function tmp(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'pxekit-validate-'));
  for (const [name, body] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), body);
  }
  return dir;
}

test('one validate run lists core, plugin-option and unknown-plugin errors of one file together', async () => {
  const dir = tmp({
    'pxekit.config.yaml': [
      'dhcp:',
      '  mode: sideways',
      'tftp:',
      '  port: 99999',
      'plugins:',
      '  - [source-disk, { root: ./boot, caseInsensitive: "yes" }]',
      '  - no-such-plugin',
      '  - [boot-by-arch, { bios: 7 }]',
      '',
    ].join('\n'),
  });
  const r = await pxekit(['validate'], dir);
  assert.equal(r.code, 1, r.stderr);
  const lines = r.stderr.split('\n').filter((l) => l.startsWith('error: '));
  const has = (re: RegExp) =>
    assert.ok(
      lines.some((l) => re.test(l)),
      `no line matching ${re} in:\n${r.stderr}`,
    );
  has(
    /^error: pxekit\.config\.yaml: dhcp\.mode: is not an allowed value \(found "sideways", expected one of .*\)\. Fix: /,
  );
  has(/^error: pxekit\.config\.yaml: tftp\.port: is out of range \(found 99999, expected <= 65535\)/);
  has(/^error: pxekit\.config\.yaml: plugins\[1\]: cannot find plugin "no-such-plugin".*Fix: .*built-in plugins/);
  has(/plugins\[0\] \(source-disk\) options caseInsensitive: must be a boolean \(found "yes", expected a boolean\)/);
  has(/plugins\[2\] \(boot-by-arch\) options bios: must be a string/);
  assert.equal(lines.length, 5, r.stderr);
  assert.match(r.stderr, /pxekit\.config\.yaml: 5 errors, 0 warnings/);
  // Correct English in type errors.
  const int = await pxekit(['validate'], tmp({ 'pxekit.config.yaml': 'tftp:\n  port: "69"\n' }));
  assert.match(
    int.stderr,
    /tftp\.port: must be an integer \(found "69", expected an integer\)\. Fix: write an integer here/,
  );
});

test(
  'validate: a missing source root or audit folder is an error (start would fail); an ' +
    'optional root is a warning with its hint',
  async () => {
    const dir = tmp({
      'pxekit.config.yaml':
        'dhcp:\n  mode: proxy\nplugins:\n  - [source-disk, { root: ./does-not-exist }]\n  - ' +
        '[source-disk#ipxe, { root: ./nor-this, optional: true, missingHint: apt install ipxe ' +
        '}]\n  - [audit-log, { file: ./no-folder/audit.jsonl }]\n',
    });
    const r = await pxekit(['validate'], dir);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      new RegExp(
        /^error: pxekit\.config\.yaml: plugins\[0\] \(source-disk\) options root: root folder .*does-not-exist /
          .source +
          /is not usable \(found no such folder, expected a readable folder\)\. Fix: create the folder/.source,
        'm',
      ),
    );
    assert.match(
      r.stderr,
      /^warning: .*plugins\[1\] \(source-disk#ipxe\) options root: .*Fix: apt install ipxe, or create/m,
    );
    assert.match(
      r.stderr,
      new RegExp(
        /^error: .*plugins\[2\] \(audit-log\) options file: cannot write the audit file /.source +
          /.*no-folder\/audit\.jsonl \(found its folder: does not exist/.source,
        'm',
      ),
    );
    assert.match(r.stderr, /2 errors, 1 warning/);
  },
);

test('validate: a boot file that no source has is a warning naming arch, file and fix; --strict fails on it', async () => {
  const dir = tmp({
    'boot/undionly.kpxe': 'x',
    'boot/ipxe.efi': 'x',
    'boot/ipxe-ia32.efi': 'x',
    'pxekit.config.yaml':
      'dhcp:\n  mode: proxy\nplugins:\n  - [source-disk, { root: ./boot }]\n  - [boot-by-arch, ' +
      '{ arm64: grub-arm64.efi, uefiHttpArm64: /grub-arm64.efi }]\n',
  });
  const r = await pxekit(['validate'], dir);
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stderr,
    new RegExp(
      /^warning: pxekit\.config\.yaml: plugins\[1\] \(boot-by-arch\): hands out grub-arm64\.efi to arm64 /.source +
        /\(option 93 = 11\), uefiHttpArm64 \(option 93 = 19\) clients, and no source has it /.source +
        /\(found not in source-disk, expected grub-arm64\.efi in one of the sources\)\. /.source +
        /Fix: put grub-arm64\.efi where a source serves it.*change what boot-by-arch hands out for arm64, uefiHttpArm64/
          .source,
      'm',
    ),
  );
  assert.doesNotMatch(r.stderr, /undionly\.kpxe|ipxe\.efi/, 'files that exist are not reported');
  assert.match(
    r.stdout,
    /pxekit\.config\.yaml: OK with \d warnings? \(2 plugins: source-disk, boot-by-arch; dhcp proxy\)/,
  );
  const strict = await pxekit(['validate', '--strict'], dir);
  assert.equal(strict.code, 1);
  assert.match(strict.stderr, /FAILED \(--strict\) with \d warnings?/);
  const json = JSON.parse((await pxekit(['validate', '--json'], dir)).stdout) as {
    ok: boolean;
    issues: Array<{ severity: string; stage: string }>;
  };
  assert.equal(json.ok, true);
  assert.ok(json.issues.every((i) => i.severity === 'warning' && i.stage === 'boot-files'));
});

test("validate runs a third-party plugin's readiness check (the plugin contract), with the file and key path", async () => {
  const dir = tmp({
    'probe.mjs': `import { definePlugin } from 'pxekit';
export default (options) => definePlugin({
  name: 'probe', options,
  optionsSchema: { type: 'object', properties: { url: { type: 'string', description: 'what to probe' } } },
  async check({ options, timeoutMs }) {
    return [{
      severity: 'warning', key: 'url', message: 'the inventory service does not answer',
      found: options.url + ' after ' + timeoutMs + ' ms', expected: 'an HTTP answer', fix: 'start it, or check the address',
    }];
  },
  apply() {},
});`,
    'pxekit.config.yaml': 'dhcp:\n  mode: "off"\nplugins:\n  - [./probe.mjs, { url: "http://inventory" }]\n',
  });
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(ROOT, join(dir, 'node_modules', 'pxekit'));
  const r = await pxekit(['validate', '--timeout', '2'], dir);
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stderr,
    new RegExp(
      /^warning: pxekit\.config\.yaml: plugins\[0\] \(probe\) options url: the inventory service does not answer /
        .source +
        /\(found http:\/\/inventory after 2000 ms, expected an HTTP answer\)\. Fix: start it, or check the address$/
          .source,
      'm',
    ),
  );
  assert.equal((await pxekit(['validate', '--strict', '--timeout', '2'], dir)).code, 1);
});

test('validate: an empty YAML file, a folder as --config and a JSON syntax error each say what is wrong, once', async () => {
  const empty = await pxekit(['validate'], tmp({ 'pxekit.config.yaml': '# nothing yet\n' }));
  assert.equal(empty.code, 1);
  assert.match(empty.stderr, /config file pxekit\.config\.yaml is empty\. Fix: write the config into it/);
  assert.doesNotMatch(empty.stdout + empty.stderr, /OK/);

  const folder = tmp({ 'pxekit.config.yaml': 'dhcp:\n  mode: proxy\n' });
  const f = await pxekit(['validate', '--config', folder]);
  assert.equal(f.code, 1);
  assert.match(f.stderr, /is a folder, not a config file\. Fix: pass the file: --config .*pxekit\.config\.yaml/);
  assert.doesNotMatch(f.stderr, /syntax/);

  // CI=true and FORCE_COLOR make the parser colour its code frame (picocolors); pxekit prints it plain.
  const bad = await pxekit(['validate'], tmp({ 'pxekit.config.json': '{"dhcp": {"mode": "proxy",}}' }), {
    ...process.env,
    CI: 'true',
    FORCE_COLOR: '1',
  });
  assert.equal(bad.code, 1);
  assert.ok(!bad.stderr.includes('\u001b['), 'no colour codes');
  assert.equal(bad.stderr.split('> 1 | {"dhcp"').length - 1, 1, `code frame once:\n${bad.stderr}`);
  assert.match(bad.stderr, /Fix: fix the JSON syntax at the place marked above/);
});

test('every subcommand answers --help with its usage and exit 0 (core, explain, and plugin commands)', async () => {
  const cases: Array<[string[], RegExp]> = [
    [['start', '--help'], /^Usage: pxekit start/],
    [['validate', '--help'], /^Usage: pxekit validate/],
    [['validate', '-h'], /^Usage: pxekit validate/],
    [['explain', '--help'], /^Usage: pxekit explain/],
    [['intent', '--help'], /^Usage:\n {2}pxekit intent set/],
    [['intent', 'set', '--help'], /^Usage:\n {2}pxekit intent set/],
    [['audit', '--help'], /^Usage: pxekit audit verify/],
    [['audit', 'verify', '--help'], /^Usage: pxekit audit verify/],
    [['--help'], /^pxekit — a network-boot/],
  ];
  const empty = tmp({});
  for (const [args, re] of cases) {
    const r = await pxekit(args, empty);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stdout, re, args.join(' '));
  }
  const bad = await pxekit(['start', '--nope'], empty);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /Unknown option '--nope'[\s\S]*Usage: pxekit start/);
});
