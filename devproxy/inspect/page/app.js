// The devproxy inspector: the list follows api/events, the detail pane
// reads api/requests/{id}. Plain DOM, no framework, no build step.
'use strict';

const $ = (sel) => document.querySelector(sel);
const maxRows = 1000;
const rows = new Map(); // id -> {s: summary, tr: row}
let selected = 0;
let paused = false;
let source = null;
let detailTimer = 0;
let selections = 0; // counts clicks on rows, so a replay does not take the pane back
let shown = { id: 0, json: '' }; // what the detail pane shows

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null && v !== false) e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c !== null && c !== undefined && c !== false) e.append(c instanceof Node ? c : String(c));
  }
  return e;
}

// filterQuery is the filter as the API reads it: the list, the event
// stream and the filtered HAR export share it.
function filterQuery() {
  const p = new URLSearchParams();
  const q = $('#q').value.trim();
  if (q) p.set('q', q);
  if ($('#route').value) p.set('route', $('#route').value);
  if ($('#status').value) p.set('status', $('#status').value);
  const kind = $('#kind').value;
  if (kind === '') p.set('kind', $('#assets').checked ? 'route,mock,frontend,static' : 'route,mock');
  else if (kind !== 'all') p.set('kind', kind);
  return p.toString();
}

function fmtTime(iso) {
  const d = new Date(iso);
  const p = (n, w) => String(n).padStart(w || 2, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

function fmtSize(n) {
  if (n < 1024) return n + ' B';
  if (n < 1024 * 1024) return (n / 1024).toFixed(1) + ' KiB';
  return (n / 1024 / 1024).toFixed(1) + ' MiB';
}

function fmtMs(ms) {
  if (ms < 0) return '';
  if (ms < 1000) return ms.toFixed(ms < 10 ? 1 : 0) + ' ms';
  return (ms / 1000).toFixed(2) + ' s';
}

function where(s) {
  if (s.site) return s.site + ': ' + where({ ...s, site: '' });
  if (s.kind === 'route') return `${s.route} → ${s.via || s.target}`;
  if (s.kind === 'mock') return `${s.route} (mock)`;
  if (s.kind === 'frontend') return `frontend → ${s.target}`;
  return s.kind;
}

function statusCell(s) {
  if (s.open && (s.webSocket || s.stream)) return el('span', { class: 'open' }, s.webSocket ? 'ws open' : 'streaming');
  if (s.open) return el('span', { class: 'open' }, 'pending');
  if (s.failure) return el('span', { class: 's5', title: s.hint || '' }, s.status || 'failed');
  return el('span', { class: 's' + Math.floor(s.status / 100) }, s.status);
}

function rowOf(s) {
  const tags = [];
  if (s.webSocket) tags.push(el('span', { class: 'tag' }, 'ws'));
  if (s.stream && !s.webSocket) tags.push(el('span', { class: 'tag' }, 'stream'));
  if (s.replayOf) tags.push(el('span', { class: 'tag' }, 'replay of #' + s.replayOf));
  if (s.imported) tags.push(el('span', { class: 'tag' }, 'imported'));
  const tr = el('tr', { 'data-id': s.id, class: (s.failure ? 'failed ' : '') + (s.id === selected ? 'selected' : ''), title: s.failure ? s.failure + (s.hint ? '\nhint: ' + s.hint : '') : '' },
    el('td', {}, fmtTime(s.start)),
    el('td', {}, s.method),
    el('td', { class: 'path', title: s.url }, s.path, tags, s.hint ? el('div', { class: 'hintline' }, 'hint: ' + s.hint) : null),
    el('td', { class: 'where', title: where(s) }, where(s)),
    el('td', {}, statusCell(s)),
    el('td', { class: 'num' }, fmtMs(s.durationMs)),
    el('td', { class: 'num' }, fmtSize(s.size)),
    el('td', {}, s.proto));
  tr.addEventListener('click', () => select(s.id));
  return tr;
}

function upsert(s) {
  const body = $('#rows');
  const old = rows.get(s.id);
  const tr = rowOf(s);
  if (old) {
    old.tr.replaceWith(tr);
  } else {
    let next = null;
    for (const r of body.children) {
      if (Number(r.dataset.id) < s.id) { next = r; break; }
    }
    body.insertBefore(tr, next);
    while (body.children.length > maxRows) {
      const last = body.lastElementChild;
      rows.delete(Number(last.dataset.id));
      last.remove();
    }
  }
  rows.set(s.id, { s, tr });
  addRoute(s.route);
  $('#empty').hidden = rows.size > 0;
  if (s.id === selected) refreshDetail();
}

function remove(id) {
  const r = rows.get(id);
  if (r) { r.tr.remove(); rows.delete(id); }
  $('#empty').hidden = rows.size > 0;
}

function addRoute(route) {
  if (!route) return;
  const sel = $('#route');
  for (const o of sel.options) if (o.value === route) return;
  sel.append(el('option', { value: route }, route));
}

async function api(path, init) {
  const res = await fetch('api/' + path, init);
  if (!res.ok) {
    let msg = res.status + ' ' + res.statusText;
    try { const j = await res.json(); msg = j.error + (j.hint ? ' — hint: ' + j.hint : ''); } catch (e) { /* not JSON */ }
    throw new Error(msg);
  }
  return res.status === 204 ? null : res.json();
}

async function reload() {
  const list = await api('requests?' + filterQuery());
  rows.clear();
  $('#rows').replaceChildren();
  for (const s of list.slice(0, maxRows).reverse()) upsert(s);
  $('#empty').hidden = rows.size > 0;
}

function connect() {
  if (source) source.close();
  source = new EventSource('api/events?' + filterQuery());
  const onEntry = (ev) => {
    if (paused) return;
    const s = JSON.parse(ev.data);
    if (s.match) upsert(s); else remove(s.id);
  };
  for (const t of ['new', 'update', 'done']) source.addEventListener(t, onEntry);
  source.addEventListener('clear', () => { rows.clear(); $('#rows').replaceChildren(); $('#empty').hidden = false; });
  source.addEventListener('reset', () => { source.close(); restart(); });
  return new Promise((resolve) => { source.onopen = () => resolve(); });
}

async function restart() {
  const open = connect();
  await reload();
  await open;
}

function toast(msg) {
  const t = $('#toast');
  t.textContent = msg;
  t.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { t.hidden = true; }, 4000);
}

// ---- detail pane

async function select(id) {
  selected = id;
  selections++;
  for (const r of rows.values()) r.tr.classList.toggle('selected', r.s.id === id);
  // A click on the entry shown closes its edit form.
  if (shown.id === id) $('#edit-form')?.replaceChildren();
  await showDetail();
}

function refreshDetail() {
  clearTimeout(detailTimer);
  detailTimer = setTimeout(showDetail, 150);
}

async function showDetail() {
  const pane = $('#detail');
  if (!selected) { pane.hidden = true; return; }
  let d;
  try {
    d = await api('requests/' + selected);
  } catch (e) {
    pane.replaceChildren(el('p', { class: 'note' }, e.message));
    return;
  }
  if (d.id !== selected) return;
  // Render again only what changed, and never under an open edit form.
  const json = JSON.stringify(d);
  if (shown.id === d.id && (shown.json === json || $('#edit-form')?.childElementCount)) return;
  shown = { id: d.id, json };
  const scroll = pane.scrollTop;
  pane.replaceChildren(...detailOf(d));
  pane.hidden = false;
  pane.scrollTop = scroll;
}

function kvTable(pairs, id) {
  if (!pairs || pairs.length === 0) return el('p', { class: 'note', id }, 'none');
  return el('table', { class: 'kv', id }, pairs.map(([k, v]) => el('tr', {}, el('td', {}, k), el('td', {}, v))));
}

function detailOf(d) {
  const out = [el('h2', { id: 'detail-title' }, `#${d.id} ${d.method} ${d.url}`)];
  out.push(el('div', { class: 'actions' },
    el('button', { id: 'replay', type: 'button', onclick: () => replay(d, null), disabled: d.webSocket || d.imported }, 'Replay'),
    el('button', { id: 'edit', type: 'button', onclick: () => showEdit(d), disabled: d.webSocket || d.imported }, 'Edit and replay'),
    el('button', { id: 'copy-curl', type: 'button', onclick: () => copy(curlOf(d), 'curl command') }, 'Copy as curl'),
    el('button', { id: 'copy-fetch', type: 'button', onclick: () => copy(fetchOf(d), 'fetch call') }, 'Copy as fetch')));
  out.push(el('div', { id: 'edit-form' }));
  if (d.failure || d.error) {
    out.push(el('div', { class: 'failure', id: 'failure' }, d.failure || d.error, d.hint ? el('div', { class: 'hint' }, 'hint: ' + d.hint) : null));
  }
  const up = [['kind', d.kind]];
  if (d.site) up.push(['site', d.site]);
  if (d.route) up.push(['route', d.route]);
  if (d.via) up.push(['answered by', d.via]);
  if (d.target) up.push([d.via ? 'target (refused)' : 'upstream', d.target]);
  up.push(['status', d.open ? (d.webSocket ? 'WebSocket open' : d.stream ? 'streaming' : 'pending') : String(d.status)]);
  up.push(['protocol', d.proto]);
  up.push(['started', new Date(d.start).toLocaleString()]);
  up.push(['first byte', fmtMs(d.ttfbMs) || '—']);
  up.push(['total', d.open ? 'open' : fmtMs(d.durationMs)]);
  up.push(['response size', fmtSize(d.size)]);
  if (d.replayOf) up.push(['replay of', '#' + d.replayOf]);
  out.push(el('h3', {}, 'Overview'), el('div', { class: 'overview' }, kvTable(up.slice(0, 5)), kvTable(up.slice(5))));
  // Bodies first: they are what a developer opens an entry for.
  if (d.request.query && d.request.query.length) out.push(el('h3', {}, 'Query'), kvTable(d.request.query, 'query'));
  if (d.request.body.size > 0) out.push(el('h3', {}, 'Request body'), bodyOf(d.request.body, 'req-body'));
  if (d.response.body.size > 0 || d.response.body.kept > 0) out.push(el('h3', {}, 'Response body'), bodyOf(d.response.body, 'resp-body'));
  out.push(el('h3', {}, 'Request headers'), kvTable(d.request.headers, 'req-headers'));
  out.push(el('h3', {}, 'Response headers'), kvTable(d.response.headers, 'resp-headers'));
  if (d.webSocket || (d.messages && d.messages.length)) out.push(el('h3', {}, 'WebSocket messages'), wsTable(d));
  return out;
}

function bodyOf(b, id) {
  const wrap = el('div', { id });
  const mt = (b.contentType || '').split(';')[0].trim().toLowerCase();
  const notes = [];
  if (b.truncated) notes.push(`showing the first ${fmtSize(b.kept)} of ${fmtSize(b.size)}`);
  if (b.decoded) notes.push(`shown ${b.decoded}-decoded`);
  if (b.notKept) {
    wrap.append(el('p', { class: 'note' }, `binary, ${fmtSize(b.size)}, not kept: ${mt || 'no Content-Type'}`));
  } else if (b.encoding === 'base64') {
    if (mt.startsWith('image/') && !b.truncated) {
      wrap.append(el('img', { class: 'preview', src: `data:${mt};base64,${b.data}`, alt: 'image preview' }));
      notes.push(`${mt}, ${fmtSize(b.size)}`);
    } else {
      wrap.append(el('p', { class: 'note' }, `binary: ${fmtSize(b.size)}, ${mt || 'no Content-Type'}`));
    }
  } else if (mt === 'application/x-www-form-urlencoded') {
    wrap.append(kvTable([...new URLSearchParams(b.data)]));
  } else {
    let parsed;
    let isJSON = false;
    if (mt.endsWith('json') || /^\s*[[{]/.test(b.data)) {
      try { parsed = JSON.parse(b.data); isJSON = true; } catch (e) { /* shown as text */ }
    }
    wrap.append(isJSON ? el('div', { class: 'json' }, jsonNode(parsed, null, 0)) : el('pre', {}, b.data));
  }
  if (notes.length) wrap.append(el('p', { class: 'note' }, notes.join('; ')));
  return wrap;
}

function jsonNode(v, key, depth) {
  const label = key === null ? [] : [el('span', { class: 'k' }, JSON.stringify(key)), ': '];
  if (v !== null && typeof v === 'object') {
    const entries = Array.isArray(v) ? v.map((x, i) => [i, x]) : Object.entries(v);
    const open = Array.isArray(v) ? '[' : '{';
    const close = Array.isArray(v) ? ']' : '}';
    if (entries.length === 0) return el('div', { class: 'leaf' }, label, open + close);
    return el('details', { open: depth < 3 },
      el('summary', {}, label, `${open} ${entries.length} ${Array.isArray(v) ? 'item' : 'key'}${entries.length === 1 ? '' : 's'}`),
      entries.map(([k, x]) => jsonNode(x, Array.isArray(v) ? null : k, depth + 1)),
      el('div', { class: 'leaf' }, close));
  }
  const cls = typeof v === 'string' ? 'str' : typeof v === 'number' ? 'num' : 'lit';
  return el('div', { class: 'leaf' }, label, el('span', { class: cls }, JSON.stringify(v)));
}

function wsTable(d) {
  const wrap = el('div', { id: 'ws-messages' });
  const ops = { 0: 'cont', 1: 'text', 2: 'binary', 8: 'close', 9: 'ping', 10: 'pong' };
  if (!d.messages || !d.messages.length) wrap.append(el('p', { class: 'note' }, 'no messages yet'));
  else wrap.append(el('table', { class: 'kv ws' }, d.messages.map((m) => el('tr', {},
    el('td', { class: 'dir ' + m.dir, title: m.dir }, m.dir === 'send' ? '↑' : '↓'),
    el('td', {}, fmtTime(m.time), ' ', ops[m.opcode] || m.opcode, ' ', fmtSize(m.size)),
    el('td', {}, m.text !== undefined && m.text !== '' ? m.text : m.hex || '', m.truncated ? ' …' : '')))));
  if (d.messagesSeen > (d.messages || []).length) wrap.append(el('p', { class: 'note' }, `${d.messagesSeen} messages, the first ${d.messages.length} kept`));
  return wrap;
}

// replayHeaders leaves out what the client sets itself.
function replayHeaders(d) {
  return d.request.headers.filter(([k]) => !/^(content-length|connection|host)$/i.test(k));
}

function bodyText(d) {
  const b = d.request.body;
  if (b.size === 0) return '';
  return b.encoding === 'base64' ? null : b.data;
}

function sq(s) { return "'" + s.replace(/'/g, "'\\''") + "'"; }

function curlOf(d) {
  const parts = ['curl'];
  if (d.method !== 'GET') parts.push('-X', d.method);
  parts.push(sq(d.url));
  for (const [k, v] of replayHeaders(d)) parts.push('-H', sq(`${k}: ${v}`));
  const body = bodyText(d);
  if (body) parts.push('--data-raw', sq(body));
  else if (body === null) parts.push('--data-binary', '@body.bin');
  return parts.join(' ');
}

function fetchOf(d) {
  const init = { method: d.method, headers: Object.fromEntries(replayHeaders(d)) };
  const body = bodyText(d);
  if (body) init.body = body;
  return `fetch(${JSON.stringify(d.url)}, ${JSON.stringify(init, null, 2)});`;
}

async function copy(text, what) {
  const box = el('textarea', { class: 'copied', id: 'copied', readonly: true });
  box.value = text;
  $('#edit-form').replaceChildren(box);
  try {
    await navigator.clipboard.writeText(text);
    toast(`${what} copied`);
  } catch (e) {
    box.select();
    toast(`${what} selected: press Ctrl+C to copy`);
  }
}

async function replay(d, edit) {
  const at = selections;
  try {
    const r = await api(`requests/${d.id}/replay`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: edit ? JSON.stringify(edit) : '',
    });
    toast(`replayed as #${r.id}: ${r.status}`);
    // Show the new entry, unless the user has moved on meanwhile.
    if (r.id && selections === at) select(r.id);
  } catch (e) {
    toast('replay failed: ' + e.message);
  }
}

function showEdit(d) {
  const method = el('input', { id: 'edit-method', value: d.method });
  const url = el('input', { id: 'edit-url', value: d.url });
  const headers = el('textarea', { id: 'edit-headers' });
  headers.value = replayHeaders(d).map(([k, v]) => `${k}: ${v}`).join('\n');
  const body = el('textarea', { id: 'edit-body' });
  body.value = bodyText(d) || '';
  const send = el('button', { id: 'edit-send', type: 'button' }, 'Send');
  send.addEventListener('click', () => {
    const hs = headers.value.split('\n').map((l) => l.trim()).filter(Boolean).map((l) => {
      const i = l.indexOf(':');
      return i < 0 ? [l, ''] : [l.slice(0, i).trim(), l.slice(i + 1).trim()];
    });
    replay(d, { method: method.value.trim(), url: url.value.trim(), headers: hs, body: body.value });
  });
  $('#edit-form').replaceChildren(el('div', { class: 'edit' },
    el('label', {}, 'method'), method, el('label', {}, 'URL'), url,
    el('label', {}, 'headers'), headers, el('label', {}, 'body'), body, el('span'), send));
}

// ---- toolbar

function download(href) {
  const a = el('a', { href, download: '' });
  document.body.append(a);
  a.click();
  a.remove();
}

async function importHAR(file) {
  try {
    const r = await api('har', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: await file.text() });
    toast(`imported ${r.imported} requests from ${file.name}`);
  } catch (e) {
    toast(e.message);
  }
}

async function showConfig() {
  // devproxy's status endpoint sits next to the inspector.
  try {
    const res = await fetch('status', { headers: { Accept: 'application/json' } });
    if (!res.ok) return;
    const st = await res.json();
    // inspect: false (or -inspect=false), as devproxy's config says now.
    $('#capture-off').hidden = !(st.inspector && st.inspector.capture === false);
    const box = $('#config');
    const parts = [`config ${st.config || '—'}`];
    if (st.reload && st.reload.at) parts.push(`${st.reload.ok ? 'loaded' : 'reload failed'} at ${new Date(st.reload.at).toLocaleTimeString()}`);
    box.replaceChildren(parts.join(' · '),
      st.reload && st.reload.error ? el('span', { class: 's5', id: 'reload-error' }, ' · ' + st.reload.error) : '',
      ' · routes: ',
      ...(st.routes || []).flatMap((r) => [el('code', {}, r.path + ' → ' + (r.respond ? 'mock' : r.target)), ' ']),
      ...(st.frontend ? ['· frontend: ', el('code', {}, st.frontend)] : []));
    box.hidden = false;
  } catch (e) {
    // No status: the inspector works without it.
  }
}

function start() {
  let timer = 0;
  const refilter = () => { clearTimeout(timer); timer = setTimeout(restart, 150); };
  $('#q').addEventListener('input', refilter);
  for (const id of ['#route', '#status', '#kind', '#assets']) $(id).addEventListener('change', refilter);
  $('#pause').addEventListener('click', () => {
    paused = !paused;
    $('#pause').classList.toggle('on', paused);
    $('#pause').textContent = paused ? 'Resume' : 'Pause';
    if (!paused) reload();
  });
  $('#clear').addEventListener('click', async () => {
    await api('requests', { method: 'DELETE' });
    selected = 0;
    $('#detail').hidden = true;
  });
  $('#har-all').addEventListener('click', () => download('api/har'));
  $('#har-filtered').addEventListener('click', () => download('api/har?' + filterQuery()));
  $('#har-import').addEventListener('change', (ev) => {
    if (ev.target.files[0]) importHAR(ev.target.files[0]);
    ev.target.value = '';
  });
  showConfig();
  setInterval(showConfig, 5000);
  restart().then(() => { document.body.dataset.ready = 'true'; });
}

start();
