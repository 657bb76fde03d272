import { PAGE_SCRIPT } from './page-script.js';

/** Escapes text for an HTML text node or a double-quoted attribute. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const CSS = `
:root { --bg:#0f1419; --panel:#171e26; --line:#26303b; --fg:#d8dee6; --muted:#8593a3;
  --accent:#4aa3ff; --ok:#3ecf8e; --bad:#ff6b6b; --warn:#f5c04a; }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--fg); font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif; }
header { display:flex; flex-wrap:wrap; align-items:center; gap:10px 16px; padding:14px 20px; border-bottom:1px solid var(--line); }
.server { display:flex; flex-wrap:wrap; gap:4px 14px; font-size:12px; color:var(--muted); }
.server > span { white-space:nowrap; }
.server > #s-cluster-box { white-space:normal; }
.server b { color:var(--fg); font-weight:500; }
h1 { font-size:18px; margin:0; font-weight:600; }
h1 span { color:var(--accent); }
h2 { font-size:13px; text-transform:uppercase; letter-spacing:.06em; color:var(--muted); margin:0 0 8px; font-weight:600; }
.counts { display:flex; gap:10px; margin-left:auto; }
.count { background:var(--panel); border:1px solid var(--line); border-radius:6px; padding:4px 10px; }
.count b { font-size:16px; margin-right:4px; }
.count.done b { color:var(--ok); } .count.failed b { color:var(--bad); }
.count.active b { color:var(--accent); } .count.stalled b { color:var(--warn); }
.count { white-space:nowrap; }
.live { font-size:12px; padding:2px 8px; border-radius:10px; border:1px solid var(--line); color:var(--muted); }
.live.live { color:var(--ok); border-color:var(--ok); } .live.reconnecting { color:var(--warn); border-color:var(--warn); }
main { display:grid; grid-template-columns:minmax(0,3fr) minmax(260px,1fr); gap:16px; padding:16px 20px; }
section { background:var(--panel); border:1px solid var(--line); border-radius:8px; padding:12px; min-width:0; }
table { width:100%; border-collapse:collapse; }
th { text-align:left; font-weight:500; color:var(--muted); font-size:12px; padding:6px 8px; border-bottom:1px solid var(--line); }
td { padding:7px 8px; border-bottom:1px solid var(--line); vertical-align:top; }
tr:last-child td { border-bottom:none; }
.mono { font-family:ui-monospace,"SFMono-Regular",Menlo,Consolas,monospace; font-size:12.5px; }
.nowrap { white-space:nowrap; }
.num { text-align:right; white-space:nowrap; font-variant-numeric:tabular-nums; }
.muted { color:var(--muted); font-size:12px; }
.detail { max-width:320px; overflow-wrap:break-word; }
.stages { white-space:nowrap; }
.pill { display:inline-block; font-size:11px; font-weight:600; padding:2px 7px; border-radius:10px;
  border:1px solid var(--line); color:var(--muted); }
.pill.past { color:var(--fg); border-color:#3a4654; }
.pill.current { background:var(--accent); border-color:var(--accent); color:#08121c; }
.pill.done { background:var(--ok); border-color:var(--ok); color:#08121c; }
.pill.failed { background:var(--bad); border-color:var(--bad); color:#1c0808; }
.pill.stalled { background:var(--warn); border-color:var(--warn); color:#1c1608; }
.arrow { color:var(--muted); margin:0 3px; font-size:11px; }
ul { list-style:none; margin:0 0 16px; padding:0; }
li { padding:6px 0; border-bottom:1px solid var(--line); overflow-wrap:break-word; }
li .head { display:flex; flex-wrap:wrap; column-gap:8px; }
li .head > span { white-space:nowrap; }
li:last-child { border-bottom:none; }
li .time { color:var(--muted); font-size:12px; }
#denials .what { color:var(--warn); } #errors .what { color:var(--bad); }
#empty { color:var(--muted); padding:16px 8px; }
@media (max-width:900px) { main { grid-template-columns:1fr; } }
`;

/** The whole page: HTML, inline CSS and inline script, no external resources (no CDN, no build). */
export function statusPage(opts: { base: string; nonce: string; maxNotices: number; maxClients: number }): string {
  const n = escapeHtml(opts.nonce);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>pxekit — live boots</title>
<style nonce="${n}">${CSS}</style></head>
<body>
<div id="app" data-base="${escapeHtml(opts.base)}" data-max-notices="${opts.maxNotices}" data-max-clients="${opts.maxClients}">
<header><h1><span>pxekit</span> live boots</h1><span id="live" class="live">connecting</span>
<div class="server" id="server"><span>version <b id="s-version">…</b></span><span>DHCP <b id="s-mode">…</b></span>
<span>up <b id="s-uptime">…</b></span><span>listening <b id="s-listeners">…</b></span>
<span id="s-cluster-box" hidden>cluster <b id="s-cluster">…</b></span></div>
<div class="counts"><div class="count active"><b id="n-active">0</b>booting</div>
<div class="count stalled"><b id="n-stalled">0</b>stalled</div><div class="count done"><b id="n-done">0</b>done</div>
<div class="count failed"><b id="n-failed">0</b>failed</div></div></header>
<main>
<section><h2>Clients</h2>
<table><thead><tr><th>MAC</th><th>Arch</th><th>IP</th><th>Stage</th><th>Last request</th>
<th class="num">Bytes</th><th class="num">Elapsed</th></tr></thead>
<tbody id="clients"></tbody></table><div id="empty">No clients yet. Power one on.</div></section>
<section><h2>Recent denials</h2><ul id="denials"><li class="muted">none</li></ul>
<h2>Recent errors</h2><ul id="errors"><li class="muted">none</li></ul></section>
</main></div>
<script nonce="${n}">${PAGE_SCRIPT}</script>
</body></html>`;
}

/** A strict CSP: only this page's nonce'd script and style, and event-stream connections to ourselves. */
export function pageCsp(nonce: string): string {
  return (
    `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; ` +
    `connect-src 'self'; img-src 'none'; base-uri 'none'; form-action 'none'; ` +
    `frame-ancestors 'none'`
  );
}
