/**
 * HTTP test fixture: a temp dir served by a tiny test-only source plugin (FileHandle semantics, the
 * real source-disk plugin lives elsewhere), plus optional plugins, on an ephemeral loopback port.
 */
import { spawnSync } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable, type Readable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { run } from '../../helpers/proc.js';
import type { FileHandle } from '../../../core/files/types.js';
import { definePlugin, type PluginDefinition } from '../../../core/plugin.js';
import { createServer } from '../../../core/create-server.js';
import type { PxeServer } from '../../../core/server.js';
import type { BootEvent } from '../../../core/hooks/server.js';

export function tempDirSource(root: string, opts: { etag?: boolean; opened?: Readable[] } = {}): PluginDefinition {
  return definePlugin({
    name: 'test-dir-source',
    apply(server) {
      server.files.hooks.resolve.tapPromise('test-dir-source', async (req) => {
        const full = join(root, req.path); // req.path is normalised: no '..', so it stays under root
        const st = await stat(full).catch(() => undefined);
        if (!st?.isFile()) return undefined;
        const handle: FileHandle = {
          path: req.path,
          size: st.size,
          mtime: st.mtime,
          ...(opts.etag ? { etag: `"${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"` } : {}),
          source: 'test-dir-source',
          open: async (range) => {
            const stream = createReadStream(full, range ? { start: range.start, end: range.end } : {});
            opts.opened?.push(stream);
            return stream;
          },
        };
        return handle;
      });
    },
  });
}

export interface HttpFixture {
  server: PxeServer;
  root: string;
  port: number;
  base: string;
  events: BootEvent[];
  /** Every stream the source opened, to check they were destroyed/closed. */
  opened: Readable[];
  close(): Promise<void>;
}

export async function startHttpFixture(
  opts: { plugins?: PluginDefinition[]; etag?: boolean; http?: Record<string, unknown>; logLines?: string[] } = {},
): Promise<HttpFixture> {
  const root = await mkdtemp(join(tmpdir(), 'pxekit-http-'));
  const events: BootEvent[] = [];
  const opened: Readable[] = [];
  const recorder = definePlugin({
    name: 'test-event-recorder',
    apply(server) {
      server.hooks.bootEvent.tap('test-event-recorder', (e) => {
        events.push(e);
      });
    },
  });
  const server = createServer({
    log: { level: opts.logLines ? 'info' : 'silent' },
    dhcp: { mode: 'off' },
    tftp: { enabled: false },
    http: { port: 0, address: '127.0.0.1', ...opts.http },
    plugins: [recorder, ...(opts.plugins ?? []), tempDirSource(root, { etag: opts.etag ?? false, opened })],
    ...(opts.logLines ? { logger: lineLogger(opts.logLines) } : {}),
  });
  const listening = await server.start();
  const http = listening.find((l) => l.protocol === 'http');
  if (!http) throw new Error('HTTP did not start');
  return {
    server,
    root,
    port: http.port,
    base: `http://127.0.0.1:${http.port}`,
    events,
    opened,
    close: async () => {
      await server.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** A pino logger whose JSON lines land in `lines` (bounded), for asserting log events. */
function lineLogger(lines: string[]): Logger {
  const sink = new Writable({
    write(chunk: Buffer, _e, cb) {
      if (lines.length < 10_000) lines.push(chunk.toString());
      cb();
    },
  });
  return pino({ level: 'info' }, sink);
}

export const hasCurl = spawnSync('curl', ['--version'], { stdio: 'ignore' }).status === 0;

export interface CurlResult {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  stderr: string;
  stdout: string;
  code: number | null;
}

/**
 * Runs curl (HTTP/1.1, --path-as-is so `..` and `//` reach the server untouched) against the fixture
 * and returns the last response's status, lowercased headers and body. Bounded by `timeoutMs`.
 */
export async function curl(f: HttpFixture, path: string, args: string[] = [], timeoutMs = 20_000): Promise<CurlResult> {
  const dir = await mkdtemp(join(tmpdir(), 'pxekit-curl-'));
  try {
    const hdr = join(dir, 'headers');
    const body = join(dir, 'body');
    const r = await run(
      'curl',
      ['-sS', '--http1.1', '--path-as-is', '-D', hdr, '-o', body, '-w', '%{http_code}', ...args, f.base + path],
      { timeoutMs },
    );
    const rawHeaders = await readFile(hdr, 'utf8').catch(() => '');
    // With several responses (100-continue, redirects) keep the last block.
    const block =
      rawHeaders
        .trim()
        .split(/\r?\n\r?\n/)
        .pop() ?? '';
    const headers: Record<string, string> = {};
    for (const line of block.split(/\r?\n/).slice(1)) {
      const i = line.indexOf(':');
      if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
    }
    return {
      status: Number(r.stdout.trim().slice(-3)) || 0,
      headers,
      body: await readFile(body).catch(() => Buffer.alloc(0)),
      stderr: r.stderr,
      stdout: r.stdout,
      code: r.code,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
