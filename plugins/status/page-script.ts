/**
 * The status page's inline script (plain browser JS, no build step). Every value shown comes from the
 * network (MACs, paths, reasons), so it is only ever put in the DOM through textContent and
 * setAttribute of fixed attribute names — never innerHTML.
 */
export const PAGE_SCRIPT = String.raw`
(function () {
  'use strict';
  var root = document.getElementById('app');
  var base = root.getAttribute('data-base');
  var clients = new Map();
  var denials = [];
  var errors = [];
  var skew = 0;
  var STAGES = ['dhcp', 'tftp', 'http', 'done'];
  var MAX_NOTICES = Number(root.getAttribute('data-max-notices')) || 50;
  var MAX_CLIENTS = Number(root.getAttribute('data-max-clients')) || 200;

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function bytes(n) {
    if (!n) return '0 B';
    var u = ['B', 'KiB', 'MiB', 'GiB'];
    var i = 0;
    while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
    return (i ? n.toFixed(1) : String(n)) + ' ' + u[i];
  }
  function dur(ms) {
    var s = Math.max(0, Math.round(ms / 1000));
    if (s < 60) return s + ' s';
    var m = Math.floor(s / 60);
    if (m < 60) return m + ' min ' + (s % 60) + ' s';
    return Math.floor(m / 60) + ' h ' + (m % 60) + ' min';
  }
  function clock(t) {
    return new Date(t).toLocaleTimeString();
  }
  function now() { return Date.now() + skew; }

  function stageCell(c) {
    var td = el('td', 'stages');
    var stopped = c.stage === 'failed' || c.stage === 'stalled';
    var current = stopped ? (c.failedIn || 'dhcp') : c.stage;
    var reached = true;
    STAGES.forEach(function (s, i) {
      if (i > 0) td.appendChild(el('span', 'arrow', '→'));
      var cls = 'pill';
      if (s === current) { cls += stopped ? ' ' + c.stage : (s === 'done' ? ' done' : ' current'); reached = false; }
      else if (reached) cls += ' past';
      var p = el('span', cls, s === 'done' ? (stopped ? c.stage : 'done') : s.toUpperCase());
      p.setAttribute('data-stage', s);
      td.appendChild(p);
    });
    return td;
  }

  function row(c) {
    var tr = el('tr', 'client stage-' + c.stage);
    tr.setAttribute('data-id', c.id);
    tr.setAttribute('data-stage', c.stage);
    tr.appendChild(el('td', 'mono', c.mac || '—'));
    tr.appendChild(el('td', 'nowrap', c.archName ? c.archName + (c.arch !== undefined ? ' (' + c.arch + ')' : '') : '—'));
    tr.appendChild(el('td', 'mono', c.ip || '—'));
    tr.appendChild(stageCell(c));
    var last = el('td', 'mono detail');
    last.appendChild(el('div', '', c.detail || ''));
    last.appendChild(el('div', 'muted', c.reason ? c.lastEvent + ': ' + c.reason : c.lastEvent));
    tr.appendChild(last);
    tr.appendChild(el('td', 'num', bytes(c.bytes)));
    var done = c.stage === 'done' || c.stage === 'failed' || c.stage === 'stalled';
    var e = el('td', 'num elapsed', dur((done ? c.lastSeen : now()) - c.firstSeen));
    e.setAttribute('data-first', String(c.firstSeen));
    e.setAttribute('data-last', done ? String(c.lastSeen) : '');
    tr.appendChild(e);
    return tr;
  }

  function renderClients() {
    var body = document.getElementById('clients');
    var list = Array.from(clients.values()).sort(function (a, b) { return b.lastSeen - a.lastSeen; });
    if (list.length > MAX_CLIENTS) {
      list.slice(MAX_CLIENTS).forEach(function (c) { clients.delete(c.id); });
      list = list.slice(0, MAX_CLIENTS);
    }
    var rows = list.map(row);
    body.replaceChildren.apply(body, rows);
    document.getElementById('empty').hidden = list.length > 0;
    var counts = { active: 0, done: 0, failed: 0, stalled: 0 };
    list.forEach(function (c) { if (counts[c.stage] !== undefined) counts[c.stage]++; else counts.active++; });
    document.getElementById('n-active').textContent = String(counts.active);
    document.getElementById('n-stalled').textContent = String(counts.stalled);
    document.getElementById('n-done').textContent = String(counts.done);
    document.getElementById('n-failed').textContent = String(counts.failed);
  }

  function renderNotices(id, items) {
    var ul = document.getElementById(id);
    var lis = items.map(function (n) {
      var li = el('li');
      var head = el('div', 'head');
      head.appendChild(el('span', 'time', clock(n.time)));
      head.appendChild(el('span', 'mono who', n.mac || n.ip || '—'));
      head.appendChild(el('span', 'what', n.type));
      if (n.plugin) head.appendChild(el('span', 'muted by', 'by ' + n.plugin));
      li.appendChild(head);
      if (n.reason || n.path) li.appendChild(el('div', 'muted mono', [n.path, n.reason].filter(Boolean).join(' — ')));
      return li;
    });
    if (lis.length === 0) lis.push(el('li', 'muted', 'none'));
    ul.replaceChildren.apply(ul, lis);
  }

  var server = null;
  function renderServer() {
    if (!server) return;
    document.getElementById('s-version').textContent = server.version;
    document.getElementById('s-mode').textContent = server.dhcpMode;
    document.getElementById('s-listeners').textContent = server.listeners.length ? server.listeners.join(', ') : 'none';
    document.getElementById('s-uptime').textContent = server.startedAt ? dur(now() - server.startedAt) : 'starting';
    var c = server.cluster;
    document.getElementById('s-cluster-box').hidden = !c;
    if (c) document.getElementById('s-cluster').textContent = clusterLine(c);
  }

  // "a: redis, Redis up, splits with a b; peers: b (on Redis); 1 outage, 12 dropped, 30 from cache"
  function clusterLine(c) {
    var peers = c.peers.map(function (p) { return p.id + (p.redis ? ' (on Redis)' : ' (no Redis, ' + p.mode + ')'); });
    var l = c.link;
    return c.id + ': ' + c.mode + ', Redis ' + (l.up ? 'up' : 'DOWN') +
      (c.members.length ? ', splits with ' + c.members.join(' ') : ', answers no client') +
      '; peers: ' + (peers.length ? peers.join(', ') : 'none heard') +
      '; ' + l.outages + ' outage(s), ' + l.dropped + ' dropped, ' + l.servedFromCache + ' from cache';
  }

  function tick() {
    renderServer();
    document.querySelectorAll('td.elapsed').forEach(function (td) {
      if (td.getAttribute('data-last')) return;
      td.textContent = dur(now() - Number(td.getAttribute('data-first')));
    });
  }

  function setLive(state) {
    var s = document.getElementById('live');
    s.textContent = state;
    s.className = 'live ' + state;
  }

  var es = new EventSource(base + '/events');
  es.addEventListener('open', function () { setLive('live'); });
  es.addEventListener('error', function () { setLive('reconnecting'); });
  es.addEventListener('snapshot', function (e) {
    var s = JSON.parse(e.data);
    skew = s.serverTime - Date.now();
    server = s.server || null;
    renderServer();
    clients = new Map();
    s.clients.forEach(function (c) { clients.set(c.id, c); });
    denials = s.denials;
    errors = s.errors;
    renderClients();
    renderNotices('denials', denials);
    renderNotices('errors', errors);
  });
  es.addEventListener('server', function (e) {
    server = JSON.parse(e.data);
    renderServer();
  });
  es.addEventListener('clients', function (e) {
    JSON.parse(e.data).forEach(function (c) {
      if (c.previousId) clients.delete(c.previousId);
      clients.set(c.id, c);
    });
    renderClients();
  });
  es.addEventListener('denial', function (e) {
    denials.unshift(JSON.parse(e.data));
    denials = denials.slice(0, MAX_NOTICES);
    renderNotices('denials', denials);
  });
  es.addEventListener('error-notice', function (e) {
    errors.unshift(JSON.parse(e.data));
    errors = errors.slice(0, MAX_NOTICES);
    renderNotices('errors', errors);
  });
  setInterval(tick, 1000);
})();
`;
