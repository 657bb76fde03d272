import { normalizeVirtualPath } from '../files/path.js';
import type { BootEvent } from '../hooks/server.js';
import type { BootSession } from '../session/types.js';
import type { ExplainServer } from './build-server.js';

/** What a TFTP or HTTP fetch of one boot file/URL would get. */
export interface FetchView {
  protocol: 'tftp' | 'http';
  /** As handed out (TFTP path or URL). */
  requested: string;
  /** Admission for this fetch (TFTP/HTTP ask admit again). */
  admitted: boolean;
  /** The deny reason / deciding plugin, when refused. */
  deniedBy?: string;
  reason?: string;
  /** A TFTP readRequest plugin mapped the path. */
  mappedTo?: string;
  mappedBy?: string;
  result: 'file' | 'script' | 'not found' | 'denied' | 'error' | 'elsewhere';
  /** File: the source plugin and the size. */
  source?: string;
  size?: number;
  /** Script: the producing plugin, content type and the text. */
  producedBy?: string;
  contentType?: string;
  script?: string;
  status?: number;
  note?: string;
}

const SCRIPT_SHOWN = 16 * 1024;

function eventsSince(x: ExplainServer, from: number): BootEvent[] {
  return x.events.slice(from);
}

/** A TFTP fetch: admit, the readRequest hook (deny or map), then files.resolve. */
export async function explainTftp(
  x: ExplainServer,
  file: string,
  session: BootSession | undefined,
  clientIp: string,
): Promise<FetchView> {
  const { server } = x;
  const norm = normalizeVirtualPath(file);
  if (!norm.ok)
    return {
      protocol: 'tftp',
      requested: file,
      admitted: false,
      result: 'denied',
      reason: `unsafe path: ${norm.reason}`,
    };
  const admit = await server.admit({
    protocol: 'tftp',
    ...(session ? { mac: session.mac, session } : {}),
    ip: clientIp,
    path: norm.path,
  });
  if (!admit.allowed)
    return {
      protocol: 'tftp',
      requested: file,
      admitted: false,
      result: 'denied',
      ...(admit.plugin ? { deniedBy: admit.plugin } : {}),
      ...(admit.reason ? { reason: admit.reason } : {}),
    };
  let path = norm.path;
  const view: FetchView = { protocol: 'tftp', requested: file, admitted: true, result: 'not found' };
  if (server.tftp.hooks.readRequest.taps.length > 0) {
    const decision = await server.tftp.hooks.readRequest.promise({
      requestedPath: file,
      path,
      mode: 'octet',
      options: {},
      client: { address: clientIp, port: 2070 },
      ...(session ? { session } : {}),
      log: server.log,
    });
    const by = server.runner.decidedBy(decision);
    if (decision && 'deny' in decision)
      return { ...view, result: 'denied', reason: decision.deny, ...(by ? { deniedBy: by } : {}) };
    if (decision && 'path' in decision) {
      path = decision.path;
      view.mappedTo = path;
      if (by) view.mappedBy = by;
    }
  }
  const handle = await server.files.resolve(path, {
    protocol: 'explain',
    ...(session ? { session } : {}),
    clientAddress: clientIp,
  });
  if (!handle) return view;
  return { ...view, result: 'file', source: handle.source, size: handle.size };
}

/**
 * An HTTP fetch through the real handler (inject): HEAD first, which tells a per-host script (the
 * `http.get` event names its producer) from a file (names its source) without reading a large file;
 * a script is then fetched with GET to show its text.
 */
export async function explainHttp(
  x: ExplainServer,
  url: string,
  clientIp: string,
  localAddress?: string,
): Promise<FetchView> {
  const { server } = x;
  let target: string;
  try {
    const u = new URL(url);
    if (u.protocol !== 'http:')
      return {
        protocol: 'http',
        requested: url,
        admitted: true,
        result: 'elsewhere',
        note: `${u.protocol} URL: explain follows http:// URLs served by this server only`,
      };
    target = `${u.pathname}${u.search}`;
  } catch {
    target = url.startsWith('/') ? url : `/${url}`;
  }
  const from = x.events.length;
  const at = { remoteAddress: clientIp, ...(localAddress ? { localAddress } : {}), timeoutMs: 10_000 };
  const head = await server.inject.http({ method: 'HEAD', path: target, ...at });
  const evs = eventsSince(x, from);
  const deny = evs.find((e) => e.type === 'admit.deny' || e.type === 'http.deny');
  const view: FetchView = {
    protocol: 'http',
    requested: url,
    admitted: !deny,
    result: 'not found',
    status: head.status,
  };
  if (deny) {
    return {
      ...view,
      result: 'denied',
      ...(deny.plugin ? { deniedBy: deny.plugin } : {}),
      ...(typeof deny.data['reason'] === 'string' ? { reason: deny.data['reason'] } : {}),
    };
  }
  const get = evs.find((e) => e.type === 'http.get' || e.type === 'http.error');
  const script = get?.data['script'];
  const source = get?.data['source'];
  if (typeof script === 'string') {
    const full = await server.inject.http({ method: 'GET', path: target, ...at });
    const text = full.body.subarray(0, SCRIPT_SHOWN).toString('utf8');
    return {
      ...view,
      result: 'script',
      status: full.status,
      producedBy: script,
      ...(typeof full.headers['content-type'] === 'string' ? { contentType: full.headers['content-type'] } : {}),
      script: full.body.length > SCRIPT_SHOWN ? `${text}\n… (${full.body.length} bytes)` : text,
    };
  }
  if (typeof source === 'string' && head.status < 400) {
    const len = Number(head.headers['content-length']);
    return { ...view, result: 'file', source, ...(Number.isFinite(len) ? { size: len } : {}) };
  }
  if (head.status >= 400 && head.status !== 404) return { ...view, result: 'error' };
  return view;
}

/** URLs and paths an iPXE script fetches (chain/kernel/initrd/imgfetch/module), without `${…}` ones. */
export function scriptFetches(script: string, max = 8): string[] {
  const out: string[] = [];
  for (const raw of script.split('\n')) {
    const line = raw.trim();
    const m = /^(?:chain|kernel|initrd|imgfetch|module|imgexec|boot)\b(.*)$/.exec(line);
    if (!m) continue;
    for (const tok of m[1]!.trim().split(/\s+/)) {
      if (tok.startsWith('-') || tok.includes('${')) continue;
      const bare = tok.replace(/^[^=\s]+=(?=\S)/, '');
      if (/^https?:\/\//.test(bare) || bare.startsWith('/')) {
        if (!out.includes(bare)) out.push(bare);
        break;
      }
    }
    if (out.length >= max) break;
  }
  return out;
}
