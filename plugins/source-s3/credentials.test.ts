import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createHttpServer } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { chainCredentials, CredentialProvider, instanceCredentials, parseIni } from './credentials.js';
import { S3Store } from './store.js';

const base = { credentials: 'chain' as const, timeoutMs: 2000 };

test('parseIni: sections, comments, spaces, "profile x" headers', () => {
  const ini = parseIni(
    '# c\n[default]\naws_access_key_id = AK\n AWS_Secret_Access_Key=SK \n; x\n[profile dev]\nkey=v=w\nbroken line\n',
  );
  assert.deepEqual({ ...ini['default'] }, { aws_access_key_id: 'AK', aws_secret_access_key: 'SK' });
  assert.deepEqual({ ...ini['dev'] }, { key: 'v=w' });
});

test('credential chain order: options, env, profile file; profile option skips env', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pxekit-cred-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'credentials');
  writeFileSync(
    file,
    '[default]\naws_access_key_id=D\naws_secret_access_key=DS\n[other]\naws_access_key_id=O\n' +
      'aws_secret_access_key=OS\naws_session_token=OT\n',
  );
  const env = { AWS_ACCESS_KEY_ID: 'E', AWS_SECRET_ACCESS_KEY: 'ES', AWS_SHARED_CREDENTIALS_FILE: file };
  assert.equal((await chainCredentials({ ...base, accessKeyId: 'A', secretAccessKey: 'AS' }, env))?.source, 'options');
  assert.deepEqual(await chainCredentials(base, env), { accessKeyId: 'E', secretAccessKey: 'ES', source: 'env' });
  assert.deepEqual(await chainCredentials(base, { AWS_SHARED_CREDENTIALS_FILE: file }), {
    accessKeyId: 'D',
    secretAccessKey: 'DS',
    source: 'profile',
  });
  assert.deepEqual(await chainCredentials(base, { AWS_SHARED_CREDENTIALS_FILE: file, AWS_PROFILE: 'other' }), {
    accessKeyId: 'O',
    secretAccessKey: 'OS',
    sessionToken: 'OT',
    source: 'profile',
  });
  assert.equal((await chainCredentials({ ...base, profile: 'other' }, env))?.accessKeyId, 'O');
  assert.equal(await chainCredentials({ ...base, profile: 'missing' }, env), undefined);
  assert.equal(await chainCredentials(base, { AWS_SHARED_CREDENTIALS_FILE: join(dir, 'none') }), undefined);
});

test('instance role (IMDSv2) only when asked, against a local fake metadata service', async (t) => {
  const seen: string[] = [];
  const imds = createHttpServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    if (req.method === 'PUT' && req.url === '/latest/api/token') return res.end('TOKEN');
    if (req.headers['x-aws-ec2-metadata-token'] !== 'TOKEN') {
      res.statusCode = 401;
      return res.end();
    }
    if (req.url === '/latest/meta-data/iam/security-credentials/') return res.end('pxe-role\n');
    if (req.url === '/latest/meta-data/iam/security-credentials/pxe-role') {
      return res.end(
        JSON.stringify({
          AccessKeyId: 'IK',
          SecretAccessKey: 'IS',
          Token: 'IT',
          Expiration: new Date(Date.now() + 3600_000).toISOString(),
        }),
      );
    }
    res.statusCode = 404;
    res.end();
  });
  await new Promise<void>((r) => imds.listen(0, '127.0.0.1', r));
  t.after(() => imds.close());
  const env = {
    AWS_EC2_METADATA_SERVICE_ENDPOINT: `http://127.0.0.1:${(imds.address() as AddressInfo).port}`,
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent',
  };
  assert.equal(await new CredentialProvider(base, env).get(), undefined, 'chain mode never asks the metadata service');
  assert.equal(seen.length, 0);
  const c = await new CredentialProvider({ ...base, credentials: 'instance' }, env).get();
  assert.equal(c?.source, 'instance');
  assert.equal(c?.sessionToken, 'IT');
  assert.deepEqual(seen, [
    'PUT /latest/api/token',
    'GET /latest/meta-data/iam/security-credentials/',
    'GET /latest/meta-data/iam/security-credentials/pxe-role',
  ]);
  // Keys elsewhere in the chain win even in instance mode.
  assert.equal(
    (
      await new CredentialProvider(
        { ...base, credentials: 'instance' },
        { ...env, AWS_ACCESS_KEY_ID: 'E', AWS_SECRET_ACCESS_KEY: 'S' },
      ).get()
    )?.source,
    'env',
  );
  await assert.rejects(instanceCredentials(1000, { ...env, AWS_EC2_METADATA_DISABLED: 'true' }), /DISABLED/);
  await assert.rejects(
    instanceCredentials(1000, { AWS_EC2_METADATA_SERVICE_ENDPOINT: 'http://127.0.0.1:1' }),
    /instance metadata credentials failed/,
  );
});

test('object URLs: path style, virtual-hosted, prefix and key encoding', () => {
  const creds = new CredentialProvider(base, {});
  const mk = (o: Partial<ConstructorParameters<typeof S3Store>[0]>) =>
    new S3Store(
      { bucket: 'b', prefix: '', region: 'eu-west-1', forcePathStyle: false, timeoutMs: 1000, ...o },
      creds,
      class {} as never,
    );
  assert.equal(mk({}).url('a/b c.efi'), 'https://b.s3.eu-west-1.amazonaws.com/a/b%20c.efi');
  assert.equal(mk({ forcePathStyle: true, prefix: 'p/' }).url('x&y'), 'https://s3.eu-west-1.amazonaws.com/b/p/x%26y');
  assert.equal(mk({ endpoint: 'http://127.0.0.1:9000/', forcePathStyle: true }).url('k'), 'http://127.0.0.1:9000/b/k');
});

test('aws4fetch is only imported lazily (servers without S3 never load it)', () => {
  for (const f of ['index.ts', 'store.ts', 'credentials.ts', 'options.ts']) {
    const src = readFileSync(new URL(f, import.meta.url), 'utf8');
    const staticImports = src.split('\n').filter((l) => /^import\s(?!type\b).*['"]aws4fetch['"]/.test(l));
    assert.deepEqual(staticImports, [], `${f} imports aws4fetch statically`);
  }
  assert.match(readFileSync(new URL('index.ts', import.meta.url), 'utf8'), /await import\('aws4fetch'\)/);
});
