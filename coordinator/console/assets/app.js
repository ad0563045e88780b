// Sluice console: one page, routed by the URL's hash, over the Kafka
// Connect REST API and Sluice's /sluice/v1/ endpoints of the coordinator
// that served it. No framework, no build step.
'use strict';

const POLL_MS = 2000;
const main = document.getElementById('main');

// h builds an element: h('a', {href: '#/', class: 'x', onclick: f}, 'text', child…).
function h(tag, attrs, ...kids) {
  const svg = ['svg', 'rect', 'line', 'text', 'title', 'g'].includes(tag);
  const el = svg ? document.createElementNS('http://www.w3.org/2000/svg', tag) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'text') el.textContent = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const kid of kids.flat(Infinity)) {
    if (kid === undefined || kid === null || kid === false) continue;
    el.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
  }
  return el;
}

// api calls the REST API; an answer that is not 2xx throws its message.
async function api(method, path, body) {
  const opts = { method, credentials: 'same-origin', headers: { Accept: 'application/json' } };
  if (body !== undefined) {
    opts.headers['Content-Type'] = 'application/json';
    opts.body = JSON.stringify(body);
  }
  const resp = await fetch(path, opts);
  const text = await resp.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch (e) { data = { message: text }; }
  }
  if (!resp.ok) {
    const err = new Error((data && data.message) || resp.status + ' ' + resp.statusText);
    err.status = resp.status;
    throw err;
  }
  return data;
}
const enc = encodeURIComponent;

// Formatting.
function usd(v) {
  if (!v) return '$0';
  if (v >= 1) return '$' + v.toFixed(2);
  return '$' + v.toPrecision(3);
}
function num(v) { return (v || 0).toLocaleString('en-US'); }
function bytes(v) {
  const u = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  v = v || 0;
  while (v >= 1024 && i < u.length - 1) { v /= 1024; i++; }
  return (i ? v.toFixed(1) : v) + ' ' + u[i];
}
function ago(t) {
  if (!t) return '';
  const s = Math.max(0, (Date.now() - new Date(t).getTime()) / 1000);
  if (s < 60) return Math.round(s) + 's ago';
  if (s < 3600) return Math.round(s / 60) + 'm ago';
  if (s < 86400) return Math.round(s / 3600) + 'h ago';
  return Math.round(s / 86400) + 'd ago';
}
function ms(v) { return v >= 10000 ? (v / 1000).toFixed(1) + ' s' : v + ' ms'; }
function short(cls) { return (cls || '').split('.').pop(); }
function badge(state) { return h('span', { class: 'badge ' + state, 'data-state': state }, state); }
function table(head, rows, cls) {
  return h('div', { class: 'scroll' }, h('table', { class: cls },
    h('thead', {}, h('tr', {}, head.map(([label, c]) => h('th', { class: c }, label)))),
    h('tbody', {}, rows)));
}
function message(el, text, isError) {
  el.textContent = text || '';
  el.className = 'msg' + (isError ? ' error' : '');
}

// confirmAction asks with the page's dialog; it resolves to true on Confirm.
function confirmAction(text) {
  const dlg = document.getElementById('confirm');
  document.getElementById('confirm-text').textContent = text;
  return new Promise((resolve) => {
    dlg.addEventListener('close', () => resolve(dlg.returnValue === 'ok'), { once: true });
    dlg.returnValue = '';
    dlg.showModal();
  });
}

// ---- Routing and live updates ----------------------------------------------

let current = null; // the view shown: {update()} polled while it is
let seq = 0;

function route() {
  const hash = location.hash.replace(/^#/, '') || '/';
  const parts = hash.split('/').filter(Boolean).map(decodeURIComponent);
  seq++;
  if (parts.length === 0) return overviewView();
  if (parts[0] === 'connectors' && parts.length === 1) return connectorsView();
  if (parts[0] === 'new') return formView(null);
  if (parts[0] === 'connectors' && parts.length === 2) return connectorView(parts[1]);
  if (parts[0] === 'connectors' && parts[2] === 'edit') return formView(parts[1]);
  main.replaceChildren(h('p', {}, 'No such page. ', h('a', { href: '#/' }, 'Overview')));
  current = null;
}

// show installs a view: update() is called now and every POLL_MS while it
// is the current view.
function show(view) {
  current = view;
  const mine = seq;
  const tick = async () => {
    if (current !== view || mine !== seq) return;
    try {
      await view.update();
      document.getElementById('live').textContent = 'updated ' + new Date().toLocaleTimeString();
    } catch (e) {
      document.getElementById('live').textContent = 'update failed: ' + e.message;
    }
    if (view.poll !== false && current === view && mine === seq) setTimeout(tick, POLL_MS);
  };
  tick();
}

window.addEventListener('hashchange', route);
window.addEventListener('DOMContentLoaded', route);

// ---- Shared data ---------------------------------------------------------------

// connectorsData returns the connectors with status and info, and the
// lease summaries.
async function connectorsData() {
  const [expanded, summaries] = await Promise.all([
    api('GET', '/connectors?expand=status&expand=info'),
    api('GET', '/sluice/v1/connectors').catch(() => ({})),
  ]);
  return Object.keys(expanded).sort().map((name) => {
    const e = expanded[name];
    const st = e.status || {};
    return {
      name,
      state: (st.connector && st.connector.state) || 'UNASSIGNED',
      type: st.type || (e.info && e.info.type) || '',
      cls: e.info && e.info.config ? e.info.config['connector.class'] : '',
      tasks: st.tasks || [],
      summary: summaries[name] || {},
    };
  });
}

function connectorsTable(list) {
  const rows = list.map((c) => {
    const running = c.tasks.filter((t) => t.state === 'RUNNING').length;
    const last = c.summary.last_lease;
    const total = c.summary.total || {};
    return h('tr', { 'data-connector': c.name },
      h('td', {}, h('a', { href: '#/connectors/' + enc(c.name) }, c.name)),
      h('td', {}, badge(c.state)),
      h('td', { class: 'hide-narrow' }, c.type),
      h('td', { class: 'hide-narrow', title: c.cls }, short(c.cls)),
      h('td', { class: 'num' }, c.tasks.length ? running + '/' + c.tasks.length : '0'),
      h('td', { class: 'num', title: 'sink lag: records not yet delivered' }, c.summary.sink_lag === undefined ? '—' : num(c.summary.sink_lag)),
      h('td', {}, last ? [badge(last.status), ' ', ago(last.end), ' · ', num(last.records), ' rec'] : h('span', { class: 'muted' }, 'none yet')),
      h('td', { class: 'num hide-narrow' }, num(total.dead_lettered)),
      h('td', { class: 'num' }, usd(total.cost_usd)));
  });
  if (!rows.length) rows.push(h('tr', {}, h('td', { colspan: 9, class: 'muted' }, 'No connectors. ', h('a', { href: '#/new' }, 'Create one'))));
  return table([['Name'], ['State'], ['Type', 'hide-narrow'], ['Class', 'hide-narrow'], ['Tasks', 'num'], ['Lag', 'num'], ['Last lease'],
    ['DLQ', 'num hide-narrow'], ['Cost', 'num']], rows, 'connectors');
}

// ---- Overview ------------------------------------------------------------------

function overviewView() {
  document.title = 'Sluice console';
  const head = h('div', { class: 'cards' });
  const list = h('div');
  main.replaceChildren(h('h1', {}, 'Overview'), head, h('h2', {}, 'Connectors'), list);
  show({
    async update() {
      const [cluster, conns] = await Promise.all([api('GET', '/sluice/v1/cluster').catch(() => null), connectorsData()]);
      const byState = {};
      const hour = { records: 0, errors: 0, failed: 0, leases: 0, cost: 0 };
      let cost = 0;
      for (const c of conns) {
        byState[c.state] = (byState[c.state] || 0) + 1;
        const lh = c.summary.last_hour || {};
        hour.records += lh.records || 0;
        hour.errors += lh.errors || 0;
        hour.failed += lh.failed || 0;
        hour.leases += lh.leases || 0;
        hour.cost += lh.cost_usd || 0;
        cost += (c.summary.total || {}).cost_usd || 0;
      }
      const cards = [];
      if (cluster) {
        const p = cluster.pricing;
        const leads = cluster.leader && cluster.leader === cluster.url;
        cards.push(h('div', { class: 'card', id: 'cluster' }, h('h3', {}, 'Coordinators'), h('dl', {},
          h('dt', {}, 'This one'), h('dd', {}, cluster.url || '?'),
          h('dt', {}, 'Leader'), h('dd', { id: 'leader' }, cluster.leader ? (leads ? 'this coordinator' : cluster.leader) : 'none known'),
          h('dt', {}, 'Group'), h('dd', {}, h('ul', { id: 'coordinators', class: 'coordinators' }, (cluster.coordinators || []).map((c) =>
            h('li', { class: c.leader ? 'leader' : null, title: c.id }, c.url || c.host || c.id || '?',
              c.leader ? [' ', h('span', { class: 'badge RUNNING' }, 'leader')] : null,
              c.self ? h('span', { class: 'muted' }, ' (this one)') : null)))),
          h('dt', {}, 'Invoker'), h('dd', { id: 'invoker' }, cluster.invoker),
          h('dt', {}, 'Kafka'), h('dd', {}, cluster.kafka_cluster_id || '?'),
          h('dt', {}, 'Version'), h('dd', {}, cluster.version || '?'))));
        const span = Math.min(3600, (Date.now() - new Date(cluster.since).getTime()) / 1000) || 1;
        cards.push(h('div', { class: 'card', id: 'last-hour' }, h('h3', {}, 'Last hour'), h('dl', {},
          h('dt', {}, 'Records/s'), h('dd', { class: 'big' }, (hour.records / span).toFixed(1)),
          h('dt', {}, 'Records'), h('dd', {}, num(hour.records)),
          h('dt', {}, 'Leases'), h('dd', {}, num(hour.leases) + (hour.failed ? ' (' + hour.failed + ' failed)' : '')),
          h('dt', {}, 'Record errors'), h('dd', {}, num(hour.errors)),
          h('dt', {}, 'Cost'), h('dd', {}, usd(hour.cost)))));
        cards.push(h('div', { class: 'card', id: 'cost' }, h('h3', {}, 'Cost since start'), h('dl', {},
          h('dt', {}, 'Estimated'), h('dd', { class: 'big' }, usd(cost)),
          h('dt', {}, 'Priced as'), h('dd', {}, p.model === 'fargate'
            ? 'Fargate ' + p.arch + ', ' + p.worker_vcpu + ' vCPU / ' + p.worker_memory_mb + ' MB workers'
            : 'Lambda ' + p.arch + ', source ' + p.source_memory_mb + ' MB, sink ' + p.sink_memory_mb + ' MB'),
          h('dt', {}, 'Since'), h('dd', {}, new Date(cluster.since).toLocaleString()))));
      }
      cards.push(h('div', { class: 'card', id: 'states' }, h('h3', {}, 'Connectors by state'),
        h('div', { class: 'actions' }, Object.keys(byState).sort().map((s) => [badge(s), ' ' + byState[s] + ' ']),
          conns.length ? null : h('span', { class: 'muted' }, 'none'))));
      head.replaceChildren(...cards);
      list.replaceChildren(connectorsTable(conns));
    },
  });
}

function connectorsView() {
  document.title = 'Connectors · Sluice';
  const list = h('div');
  main.replaceChildren(h('h1', {}, 'Connectors', h('button', { class: 'primary', onclick: () => { location.hash = '#/new'; } }, 'New connector')), list);
  show({ async update() { list.replaceChildren(connectorsTable(await connectorsData())); } });
}

// ---- One connector ---------------------------------------------------------------

// timeline draws the leases (oldest left): duration on top, colored by
// outcome, records below.
function timeline(leases) {
  const W = 800, TOP = 84, GAP = 6, BOT = 50, H = TOP + GAP + BOT + 14;
  const n = Math.max(leases.length, 20);
  const bw = W / n;
  const maxMs = Math.max(1, ...leases.map((l) => l.runtime_ms));
  const maxRec = Math.max(1, ...leases.map((l) => l.records));
  const color = { succeeded: '#1f8a4c', expired: '#c77700' };
  const svg = h('svg', { class: 'timeline', viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': 'Lease timeline' },
    h('line', { x1: 0, x2: W, y1: TOP, y2: TOP, stroke: '#dde1e8' }),
    h('line', { x1: 0, x2: W, y1: TOP + GAP, y2: TOP + GAP, stroke: '#dde1e8' }),
    h('text', { x: W - 2, y: 10, 'text-anchor': 'end' }, 'duration (up to ' + ms(maxMs) + ')'),
    h('text', { x: W - 2, y: H - 2, 'text-anchor': 'end' }, 'records (up to ' + num(maxRec) + ')'));
  leases.forEach((l, i) => {
    const x = i * bw + 1, w = Math.max(1, bw - 2);
    const dh = Math.max(2, (l.runtime_ms / maxMs) * (TOP - 14));
    const rh = l.records ? Math.max(2, (l.records / maxRec) * BOT) : 0;
    const tip = `task ${l.task} · ${l.status} · ${new Date(l.start).toLocaleTimeString()} · ${ms(l.runtime_ms)} · ` +
      `${num(l.records)} records · ${usd(l.cost_usd)}` + (l.error ? ' · ' + l.error : '');
    svg.append(h('g', { class: 'lease', 'data-status': l.status },
      h('title', {}, tip),
      h('rect', { x, y: TOP - dh, width: w, height: dh, fill: color[l.status] || '#c62828' }),
      rh ? h('rect', { x, y: TOP + GAP, width: w, height: rh, fill: '#5b8def' }) : null));
  });
  return h('div', {}, svg, h('div', { class: 'legend' },
    h('span', {}, h('i', { class: 's' }), 'succeeded'), h('span', {}, h('i', { class: 'e' }), 'expired'),
    h('span', {}, h('i', { class: 'f' }), 'failed'), h('span', {}, h('i', { class: 'r' }), 'records')));
}

function connectorView(name) {
  document.title = name + ' · Sluice';
  const title = h('h1', {}, name);
  const note = h('div', { class: 'msg' });
  const actions = h('div', { class: 'actions', id: 'actions' });
  const totals = h('div', { class: 'cards' });
  const tasks = h('div', { id: 'tasks' });
  const chart = h('div', { id: 'timeline' });
  const leaseTable = h('div', { id: 'leases' });
  const lagTitle = h('h2', { hidden: true }, 'Sink lag');
  const lag = h('div', { id: 'lag' });
  const topics = h('div', { id: 'topics' });
  const config = h('div', { id: 'config' });
  const offsetsText = h('textarea', { id: 'offsets-text', spellcheck: 'false', 'aria-label': 'Offsets (JSON)' });
  const offsetsMsg = h('div', { class: 'msg', id: 'offsets-msg' });
  const saveOffsets = h('button', { id: 'offsets-save', class: 'primary' }, 'Save offsets');
  const resetOffsets = h('button', { id: 'offsets-reset', class: 'danger' }, 'Reset offsets');
  const reloadOffsets = h('button', { id: 'offsets-reload' }, 'Reload');
  const offsetsHint = h('p', { class: 'muted', id: 'offsets-hint' });
  let state = '';
  let offsetsDirty = false;
  let offsetsState = null; // the state the offsets were last loaded in
  offsetsText.addEventListener('input', () => { offsetsDirty = true; });

  main.replaceChildren(title, note, actions, totals,
    h('h2', {}, 'Tasks'), tasks,
    h('h2', {}, 'Leases'), chart, leaseTable, lagTitle, lag,
    h('h2', {}, 'Offsets'), offsetsHint, offsetsText, h('div', { class: 'actions' }, saveOffsets, resetOffsets, reloadOffsets), offsetsMsg,
    h('h2', {}, 'Active topics'), topics,
    h('h2', {}, 'Configuration'), config);

  async function loadOffsets() {
    try {
      const o = await api('GET', `/connectors/${enc(name)}/offsets`);
      offsetsText.value = JSON.stringify(o, null, 2);
      offsetsDirty = false;
    } catch (e) {
      offsetsText.value = '';
      message(offsetsMsg, e.message, true);
    }
    offsetsState = state;
  }
  reloadOffsets.addEventListener('click', () => { message(offsetsMsg, ''); loadOffsets(); });
  saveOffsets.addEventListener('click', async () => {
    let body;
    try { body = JSON.parse(offsetsText.value); } catch (e) { return message(offsetsMsg, 'Not JSON: ' + e.message, true); }
    try {
      const r = await api('PATCH', `/connectors/${enc(name)}/offsets`, body);
      message(offsetsMsg, (r && r.message) || 'Offsets altered.');
      await loadOffsets();
    } catch (e) { message(offsetsMsg, e.message, true); }
  });
  resetOffsets.addEventListener('click', async () => {
    if (!(await confirmAction(`Reset every offset of ${name}? It will start over from the beginning (or its configured start).`))) return;
    try {
      const r = await api('DELETE', `/connectors/${enc(name)}/offsets`);
      message(offsetsMsg, (r && r.message) || 'Offsets reset.');
      await loadOffsets();
    } catch (e) { message(offsetsMsg, e.message, true); }
  });

  // act runs a lifecycle action after confirmation.
  async function act(label, method, path, question, after) {
    if (question && !(await confirmAction(question))) return;
    try {
      await api(method, path);
      message(note, label + ': done.');
      if (after) return after();
      view.update();
    } catch (e) { message(note, label + ' failed: ' + e.message, true); }
  }
  function button(label, id, method, path, question, cls, after) {
    return h('button', { id, class: cls, onclick: () => act(label, method, path, question, after) }, label);
  }

  const view = {
    async update() {
      let info, status;
      try {
        [info, status] = await Promise.all([api('GET', `/connectors/${enc(name)}`), api('GET', `/connectors/${enc(name)}/status`).catch(() => null)]);
      } catch (e) {
        if (e.status === 404) {
          main.replaceChildren(h('h1', {}, name), h('p', {}, 'This connector does not exist (any more). ', h('a', { href: '#/' }, 'Overview')));
          current = null;
          return;
        }
        throw e;
      }
      const [leases, active] = await Promise.all([
        api('GET', `/sluice/v1/connectors/${enc(name)}/leases`).catch(() => ({ tasks: [], total: {} })),
        api('GET', `/connectors/${enc(name)}/topics`).catch(() => null),
      ]);
      state = status ? status.connector.state : 'UNASSIGNED';
      const base = `/connectors/${enc(name)}`;
      title.replaceChildren(name, badge(state), h('span', { class: 'muted sub' }, info.type + ' · ' + short(info.config['connector.class'])));
      const stopped = state === 'STOPPED';
      actions.replaceChildren(...[
        state === 'RUNNING' ? button('Pause', 'pause', 'PUT', base + '/pause', `Pause ${name}? Its tasks stop taking leases until resumed.`) : null,
        state === 'PAUSED' || stopped ? button('Resume', 'resume', 'PUT', base + '/resume', null, 'primary') : null,
        stopped ? null : button('Stop', 'stop', 'PUT', base + '/stop', `Stop ${name}? Its tasks are shut down; offsets can then be edited.`),
        button('Restart', 'restart', 'POST', base + '/restart?includeTasks=true&onlyFailed=false', `Restart ${name} and its tasks?`),
        h('button', { id: 'edit', onclick: () => { location.hash = `#/connectors/${enc(name)}/edit`; } }, 'Edit'),
        button('Delete', 'delete', 'DELETE', base, `Delete ${name}? Its configuration is removed; its offsets stay in Kafka.`, 'danger',
          () => { location.hash = '#/'; }),
      ].filter(Boolean));

      const t = leases.total || {};
      totals.replaceChildren(h('div', { class: 'card', id: 'totals' }, h('h3', {}, 'Since the coordinator started'), h('dl', {},
        h('dt', {}, 'Leases'), h('dd', {}, num(t.leases) + (t.failed ? ` (${t.failed} not succeeded)` : '')),
        h('dt', {}, 'Records'), h('dd', {}, num(t.records) + ' · ' + bytes(t.bytes)),
        h('dt', {}, 'Errors / DLQ'), h('dd', {}, num(t.errors) + ' / ' + num(t.dead_lettered)),
        h('dt', {}, 'Invocation time'), h('dd', {}, ms(Math.round((t.seconds || 0) * 1000)) + ' · ' + (t.gb_seconds || 0).toFixed(2) + ' GB-s'),
        h('dt', {}, 'Estimated cost'), h('dd', { class: 'big', id: 'cost-total' }, usd(t.cost_usd)))));

      const taskRows = (status ? status.tasks : []).map((ts) => h('tr', { 'data-task': ts.id },
        h('td', { class: 'num' }, ts.id), h('td', {}, badge(ts.state)), h('td', { class: 'hide-narrow' }, ts.worker_id),
        h('td', {}, ts.trace ? h('details', {}, h('summary', {}, 'trace'), h('pre', {}, ts.trace)) : ''),
        h('td', {}, h('button', { onclick: () => act('Restart task ' + ts.id, 'POST', `${base}/tasks/${ts.id}/restart`, `Restart task ${ts.id} of ${name}?`) }, 'Restart'))));
      if (!taskRows.length) taskRows.push(h('tr', {}, h('td', { colspan: 5, class: 'muted' }, stopped ? 'Stopped: no tasks.' : 'No tasks.')));
      tasks.replaceChildren(table([['Task', 'num'], ['State'], ['Worker', 'hide-narrow'], ['Trace'], ['']], taskRows));

      const all = leases.tasks.flatMap((x) => x.leases).sort((a, b) => new Date(a.start) - new Date(b.start));
      const recent = all.slice(-60);
      chart.replaceChildren(recent.length ? timeline(recent) : h('p', { class: 'muted' }, 'No lease has ended yet.'));
      leaseTable.replaceChildren(recent.length ? h('details', {}, h('summary', {}, 'Last ' + Math.min(20, recent.length) + ' leases'),
        table([['Ended'], ['Task', 'num'], ['Status'], ['Runtime', 'num'], ['Records', 'num'], ['Bytes', 'num hide-narrow'], ['Cost', 'num'], ['Ranges / error', 'hide-narrow']],
          recent.slice(-20).reverse().map((l) => h('tr', {},
            h('td', { title: l.end }, ago(l.end)), h('td', { class: 'num' }, l.task), h('td', {}, badge(l.status)),
            h('td', { class: 'num' }, ms(l.runtime_ms)), h('td', { class: 'num' }, num(l.records)),
            h('td', { class: 'num hide-narrow' }, bytes(l.bytes)), h('td', { class: 'num' }, usd(l.cost_usd)),
            h('td', { class: 'hide-narrow' }, l.error || (l.ranges || []).map((r) => `${r.topic}-${r.partition}[${r.start},${r.end})`).join(' ')))))) : '');

      lagTitle.hidden = !leases.sink_lag;
      lag.replaceChildren(leases.sink_lag ? table([['Partition'], ['Committed', 'num'], ['End', 'num'], ['Lag', 'num']],
        leases.sink_lag.map((p) => h('tr', { 'data-partition': p.topic + '-' + p.partition },
          h('td', {}, p.topic + '-' + p.partition), h('td', { class: 'num' }, p.committed < 0 ? 'none' : num(p.committed)),
          h('td', { class: 'num' }, num(p.end)), h('td', { class: 'num' }, num(p.lag))))) : '');
      topics.replaceChildren(active && active[name] && active[name].topics.length
        ? h('p', {}, active[name].topics.join(', ')) : h('p', { class: 'muted' }, 'None recorded.'));
      config.replaceChildren(table([['Key'], ['Value']], Object.keys(info.config).sort().map((k) =>
        h('tr', {}, h('td', {}, h('code', {}, k)), h('td', {}, info.config[k]))), 'config'));

      saveOffsets.disabled = resetOffsets.disabled = !stopped;
      offsetsText.readOnly = !stopped;
      offsetsHint.textContent = stopped
        ? 'The connector is stopped: edit the offsets below (Kafka Connect\'s KIP-875 format) and save, or reset them.'
        : 'Stop the connector to edit or reset its offsets.';
      if (!offsetsDirty && (offsetsState !== state || !stopped)) await loadOffsets();
    },
  };
  show(view);
}

// ---- Create and edit ---------------------------------------------------------------

// formView is the create (name null) or edit form, generated from
// PUT /connector-plugins/{class}/config/validate: groups, documentation,
// defaults, recommended values and the errors of what was typed, as typed.
async function formView(name) {
  document.title = (name ? 'Edit ' + name : 'New connector') + ' · Sluice';
  current = null;
  const mine = seq;
  const msg = h('div', { class: 'msg', id: 'form-msg' });
  const form = h('form', { class: 'config', novalidate: true });
  const fields = h('div', { id: 'fields' });
  const submit = h('button', { type: 'submit', class: 'primary', id: 'submit' }, name ? 'Save' : 'Create');
  const plugin = h('select', { class: 'plugin', id: 'plugin', 'aria-label': 'Connector plugin' });
  main.replaceChildren(h('h1', {}, name ? 'Edit ' + name : 'New connector'), msg, form);

  let values = {};      // what the user set, key -> string
  const touched = new Set();
  let showAll = false;  // after a submit: every error shows
  let keys = '';        // the keys rendered, to know when to re-render
  let lastResult = null;
  let timer = null;
  let validating = 0;

  try {
    if (name) {
      values = await api('GET', `/connectors/${enc(name)}/config`);
      Object.keys(values).forEach((k) => touched.add(k));
    } else {
      const plugins = await api('GET', '/connector-plugins');
      plugin.append(h('option', { value: '' }, 'Choose a connector plugin…'),
        ...plugins.map((p) => h('option', { value: p.class }, `${short(p.class)} (${p.type})`)));
    }
  } catch (e) {
    return message(msg, e.message, true);
  }
  if (mine !== seq) return;
  form.append(name ? null : h('fieldset', {}, h('legend', {}, 'Plugin'), plugin), fields, h('div', { class: 'actions' }, submit,
    h('button', { type: 'button', onclick: () => { location.hash = name ? `#/connectors/${enc(name)}` : '#/'; } }, 'Cancel')));
  submit.disabled = !name;

  plugin.addEventListener('change', () => {
    values = { 'connector.class': plugin.value, name: values.name || '' };
    keys = '';
    submit.disabled = !plugin.value;
    fields.replaceChildren();
    if (plugin.value) validate();
  });

  function className() { return values['connector.class']; }

  async function validate() {
    const n = ++validating;
    const body = {};
    for (const [k, v] of Object.entries(values)) if (v !== '' && v !== undefined) body[k] = v;
    body['connector.class'] = className();
    let r;
    try {
      r = await api('PUT', `/connector-plugins/${enc(className())}/config/validate`, body);
    } catch (e) {
      message(msg, e.message, true);
      return null;
    }
    if (n !== validating || mine !== seq) return null;
    lastResult = r;
    render(r);
    return r;
  }

  function input(def, val) {
    const common = { id: 'cfg-' + def.name.replace(/[^a-zA-Z0-9]/g, '-'), name: def.name };
    let el;
    if (def.type === 'BOOLEAN') {
      el = h('select', common, h('option', { value: '' }, def.default_value !== null ? `default (${def.default_value})` : '—'),
        h('option', { value: 'true' }, 'true'), h('option', { value: 'false' }, 'false'));
    } else {
      el = h('input', Object.assign(common, {
        type: def.type === 'PASSWORD' ? 'password' : 'text',
        placeholder: def.default_value !== null && def.default_value !== '' ? 'default: ' + def.default_value : '',
        autocomplete: 'off',
      }));
      if (val.recommended_values && val.recommended_values.length) {
        const listID = common.id + '-list';
        el.setAttribute('list', listID);
        el = [el, h('datalist', { id: listID }, val.recommended_values.map((v) => h('option', { value: v })))];
      }
    }
    const first = Array.isArray(el) ? el[0] : el;
    first.value = values[def.name] || '';
    if (name && def.name === 'name') first.readOnly = true;
    first.addEventListener('input', () => {
      values[def.name] = first.value;
      touched.add(def.name);
      clearTimeout(timer);
      timer = setTimeout(validate, 250);
    });
    first.addEventListener('change', () => { values[def.name] = first.value; touched.add(def.name); clearTimeout(timer); validate(); });
    return el;
  }

  // render draws the fields when the set of keys changed, and otherwise
  // only updates their errors and visibility, so typing keeps its focus.
  function render(r) {
    const configs = r.configs.filter((c) => c.definition.name !== 'connector.class');
    const now = configs.map((c) => c.definition.name).join('\n');
    if (now !== keys) {
      keys = now;
      const groups = [];
      const byGroup = {};
      for (const c of configs) {
        const g = c.definition.group || short(className());
        if (!byGroup[g]) { byGroup[g] = []; groups.push(g); }
        byGroup[g].push(c);
      }
      const order = (r.groups || []).filter((g) => byGroup[g]);
      for (const g of groups) if (!order.includes(g)) order.splice(order.includes('Common') ? 1 : 0, 0, g);
      const focused = document.activeElement && document.activeElement.name;
      fields.replaceChildren(...order.map((g, i) => {
        const set = h('fieldset', { 'data-group': g }, i < 2 ? h('legend', {}, g) : null,
          byGroup[g].sort((a, b) => (a.definition.order || 0) - (b.definition.order || 0)).map((c) => {
            const d = c.definition;
            return h('div', { class: 'field', 'data-key': d.name },
              h('label', { for: 'cfg-' + d.name.replace(/[^a-zA-Z0-9]/g, '-') }, d.display_name || d.name,
                d.required && d.default_value === null ? h('span', { class: 'req', title: 'required' }, ' *') : null, h('code', {}, d.name)),
              h('div', {}, input(d, c.value), d.documentation ? h('div', { class: 'doc' }, d.documentation) : null,
                h('div', { class: 'error', role: 'alert' })));
          }));
        return i < 2 ? set : h('details', { 'data-group': g }, h('summary', {}, g), set);
      }));
      if (focused) {
        const el = fields.querySelector(`[name="${CSS.escape(focused)}"]`);
        if (el) el.focus();
      }
    }
    for (const c of configs) {
      const field = fields.querySelector(`.field[data-key="${CSS.escape(c.definition.name)}"]`);
      if (!field) continue;
      const errs = showAll || touched.has(c.definition.name) ? c.value.errors : [];
      field.querySelector('.error').textContent = errs.join('\n');
      field.classList.toggle('invalid', errs.length > 0);
      field.hidden = c.value.visible === false;
      if (errs.length) {
        const det = field.closest('details');
        if (det) det.open = true;
      }
    }
  }

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearTimeout(timer);
    message(msg, '');
    showAll = true;
    const r = await validate();
    if (!r) return;
    if (r.error_count > 0) {
      return message(msg, `Fix the ${r.error_count} error${r.error_count > 1 ? 's' : ''} shown below.`, true);
    }
    const config = {};
    for (const [k, v] of Object.entries(values)) if (v !== '' && v !== undefined) config[k] = v;
    config['connector.class'] = className();
    try {
      if (name) {
        await api('PUT', `/connectors/${enc(name)}/config`, config);
        location.hash = `#/connectors/${enc(name)}`;
      } else {
        const created = await api('POST', '/connectors', { name: config.name, config });
        location.hash = `#/connectors/${enc(created.name)}`;
      }
    } catch (e) {
      message(msg, e.message, true);
    }
  });

  if (name) validate();
}
