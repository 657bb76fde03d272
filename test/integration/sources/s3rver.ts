/** Test helper: a real s3rver on 127.0.0.1 (ephemeral port, its own temp folder) that a test can stop and restart. */
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AwsClient } from 'aws4fetch';
import { spawnTracked, type Tracked } from '../../helpers/proc.js';

export const S3RVER_KEYS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

export class S3rver {
  readonly dir = mkdtempSync(join(tmpdir(), 'pxekit-s3rver-'));
  port = 0;
  #proc: Tracked | undefined;
  readonly #aws = new AwsClient({ ...S3RVER_KEYS, service: 's3', region: 'us-east-1', retries: 0 });

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Starts s3rver (on the previous port when restarting, so clients find it again); resolves when it listens. */
  async start(): Promise<void> {
    const bin = createRequire(import.meta.url).resolve('s3rver/bin/s3rver.js');
    // --openssl-legacy-provider: s3rver 3.7.1 encrypts list continuation tokens with DES (dependencies.md 4.1).
    const p = spawnTracked(process.execPath, [
      '--openssl-legacy-provider',
      bin,
      '-d',
      this.dir,
      '-a',
      '127.0.0.1',
      '-p',
      String(this.port),
      '--configure-bucket',
      'boot',
    ]);
    this.#proc = p;
    this.port = await new Promise<number>((res, rej) => {
      const timer = setTimeout(() => rej(new Error(`s3rver did not start within 20 s:\n${p.output()}`)), 20_000);
      const onData = (b: Buffer) => {
        const m = /listening on [\d.]+:(\d+)/.exec(p.output() + b.toString());
        if (m) {
          clearTimeout(timer);
          res(Number(m[1]));
        }
      };
      p.child.stdout?.on('data', onData);
      void p.exitPromise.then((c) => {
        clearTimeout(timer);
        rej(new Error(`s3rver exited ${String(c)}:\n${p.output()}`));
      });
    });
  }

  async stop(): Promise<void> {
    await this.#proc?.stop(2_000);
    this.#proc = undefined;
  }

  async put(key: string, body: Uint8Array | string | ReadableStream<Uint8Array>, size?: number): Promise<void> {
    const headers: Record<string, string> =
      size !== undefined ? { 'content-length': String(size), 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } : {};
    const init: RequestInit & { duplex?: 'half' } = {
      method: 'PUT',
      body: body as NonNullable<RequestInit['body']>,
      headers,
      ...(size !== undefined ? { duplex: 'half' } : {}),
    };
    const r = await this.#aws.fetch(`${this.endpoint}/boot/${key.split('/').map(encodeURIComponent).join('/')}`, init);
    if (!r.ok) throw new Error(`PUT ${key}: ${r.status} ${await r.text()}`);
  }

  async cleanup(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
