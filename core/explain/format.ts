import type { FetchView } from './fetch.js';
import type { ExplainReport } from './engine.js';

const yesNo = (b: boolean) => (b ? 'yes' : 'no');

function fetchLines(f: FetchView): string[] {
  const head = `${f.protocol.toUpperCase()} ${f.requested}`;
  const out: string[] = [];
  if (f.result === 'denied') {
    out.push(`${head} → DENIED${f.deniedBy ? ` by ${f.deniedBy}` : ''}${f.reason ? `: ${f.reason}` : ''}`);
    return out;
  }
  const mapped = f.mappedTo ? ` (mapped to ${f.mappedTo}${f.mappedBy ? ` by ${f.mappedBy}` : ''})` : '';
  if (f.result === 'file')
    out.push(`${head}${mapped} → file from ${f.source}${f.size !== undefined ? `, ${f.size} bytes` : ''}`);
  else if (f.result === 'script') {
    out.push(`${head} → script by ${f.producedBy}${f.contentType ? ` (${f.contentType})` : ''}:`);
    for (const l of (f.script ?? '').replace(/\n$/, '').split('\n')) out.push(`  | ${l}`);
  } else if (f.result === 'elsewhere') out.push(`${head} → not followed: ${f.note}`);
  else if (f.result === 'error') out.push(`${head}${mapped} → error (HTTP ${f.status})`);
  else out.push(`${head}${mapped} → NOT FOUND in any source${f.status ? ` (HTTP ${f.status})` : ''}`);
  return out;
}

/** The human report: one numbered step per decision, no timestamps (stable for golden tests). */
export function formatReport(r: ExplainReport): string {
  const L: string[] = [];
  const c = r.client;
  L.push(`pxekit explain: ${r.input.origin}`);
  L.push(
    `config ${r.config.file}, DHCP mode ${r.config.mode}; plugins: ` +
      `${r.config.plugins.join(', ') || 'none'}${r.config.skipped.length ? ` (observers left out: ${r.config.skipped.join(', ')})` : ''}`,
  );
  L.push('');
  L.push('1. Client');
  L.push(`   MAC          ${c.mac}`);
  L.push(`   arch (93)    ${c.arch ?? '—'} → ${c.archName} (firmware ${c.firmware}, cpu ${c.cpu})`);
  L.push(`   vendor (60)  ${c.vendorClass ?? '—'}`);
  L.push(`   user class   ${c.userClass.length ? c.userClass.join(', ') : '—'}`);
  L.push(
    `   PXE ROM ${yesNo(c.isPxeClient)}, iPXE ${yesNo(c.isIpxe)}, wants a URL (HTTP boot) ` +
      `${yesNo(c.httpBoot)}${c.guid ? `, GUID ${c.guid}` : ''}`,
  );
  if (Object.keys(c.labels).length)
    L.push(
      `   labels       ${Object.entries(c.labels)
        .map(([k, v]) => `${k}=${v}`)
        .join(', ')}`,
    );
  L.push('');
  const admitted = `admitted${r.admit.plugin ? ` by ${r.admit.plugin}` : ' (no plugin objected)'}`;
  const admitReason = r.admit.reason ? ` — ${r.admit.reason}` : '';
  L.push(`2. Admit: ${r.admit.allowed ? admitted : `DENIED by ${r.admit.plugin}`}${admitReason}`);
  L.push('');
  if (!r.admit.allowed) L.push('3. Boot decision: none (denied clients are not asked about)');
  else if (!r.bootAsked) L.push('3. Boot decision: not asked (the packet was not answered: see the DHCP events)');
  else if (!r.boot) L.push('3. Boot decision: no plugin chose a boot file (no boot information is sent)');
  else {
    const b = r.boot;
    L.push(
      `3. Boot decision by ${b.plugin}: ${b.noBoot ? 'do not netboot' : b.file}${b.reason ? ` — ${b.reason}` : ''}`,
    );
    if (b.nextServer) L.push(`   next server ${b.nextServer}`);
    if (b.proxyPolicy) L.push(`   proxy policy ${b.proxyPolicy}`);
  }
  L.push('');
  L.push('4. DHCP');
  for (const s of r.dhcp) {
    L.push(`   → ${s.sent} to port ${s.port}`);
    for (const e of s.events)
      L.push(
        `     event ${e.type} (${e.outcome})${e.plugin ? ` by ${e.plugin}` : ''}${e.reason ? `: ${e.reason}` : ''}`,
      );
    if (!s.reply) {
      L.push('     ← no reply');
      continue;
    }
    const f = s.reply.fields;
    L.push(
      `     ← ${s.reply.type} to ${s.reply.to}: yiaddr ${f.yiaddr}, siaddr ` +
        `${f.siaddr}${f.sname ? `, sname "${f.sname}"` : ''}${f.file ? `, file "${f.file}"` : ''}`,
    );
    for (const o of s.reply.options) L.push(`       ${String(o.code).padStart(3)} ${o.name.padEnd(28)} ${o.value}`);
  }
  L.push('');
  L.push(`5. Boot file: ${r.bootFile ?? '—'}`);
  for (const f of r.fetches) for (const l of fetchLines(f)) L.push(`   ${l}`);
  L.push('');
  L.push(`6. Result: ${r.verdict.boots ? 'boots' : 'NO BOOT'} — ${r.verdict.summary}`);
  if (r.verdict.fix) L.push(`   Fix: ${r.verdict.fix}`);
  if (r.notes.length) {
    L.push('');
    L.push('Notes:');
    for (const n of r.notes) L.push(`   - ${n}`);
  }
  return `${L.join('\n')}\n`;
}
