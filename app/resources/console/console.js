// Zyven console: a page over the public /v1 API. Everything from the server is put in the
// page as text (textContent, attributes), never as HTML: payloads come from strangers.
'use strict';

const KEY = 'zyven.key';
const OPERATOR_KEY = 'zyven.operator-key';
const POLL_MS = 2000;
const STATUSES = ['RECEIVED', 'DISPATCHING', 'RETRY_SCHEDULED', 'DELIVERED', 'DEAD_LETTERED', 'CANCELLED'];

let me = null;          // who is signed in: {kind, tenant_id, tenant_name, scope, endpoint_ids}
let stopView = null;    // stops the current view's polling when the view changes

// ---- DOM helpers: text only ----

function el(tag, props, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else if (name === 'class') node.className = value;
    else if (name === 'text') node.textContent = value;
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function statusBadge(status) {
  return el('span', { class: 'status ' + status, 'data-status': status, text: status });
}

function age(iso) {
  const seconds = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  if (seconds < 60) return seconds + 's';
  if (seconds < 3600) return Math.floor(seconds / 60) + 'm';
  if (seconds < 86400) return Math.floor(seconds / 3600) + 'h';
  return Math.floor(seconds / 86400) + 'd';
}

function pretty(value) {
  return JSON.stringify(value, null, 2);
}

// Goes to a view: through hashchange when the hash changes, at once when it does not.
function go(hash) {
  if (location.hash === hash) render();
  else location.hash = hash;
}

function show(view) {
  const root = document.getElementById('view');
  root.replaceChildren(view);
}

function problemText(response) {
  const p = response.json || {};
  return (p.title || ('HTTP ' + response.status)) + (p.detail ? ': ' + p.detail : '');
}

// ---- the API ----

async function api(method, path, body, extraHeaders) {
  const headers = Object.assign({ Authorization: 'Bearer ' + sessionStorage.getItem(KEY) }, extraHeaders || {});
  const init = { method, headers };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
  }
  const res = await fetch(path, init);
  const text = await res.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch (e) { json = null; }
  return { status: res.status, ok: res.ok, json, text, headers: res.headers };
}

function canManage() {
  return me && me.kind === 'tenant' && (me.scope || 'manage') === 'manage';
}

// ---- sign-in ----

async function signIn(key) {
  sessionStorage.setItem(KEY, key);
  const r = await api('GET', '/v1/me');
  if (!r.ok) {
    sessionStorage.removeItem(KEY);
    return problemText(r);
  }
  me = r.json;
  return null;
}

function signOut() {
  sessionStorage.removeItem(KEY);
  sessionStorage.removeItem(OPERATOR_KEY);
  me = null;
  history.replaceState(null, '', location.pathname);
  render();
}

function showSignIn(message) {
  document.getElementById('sign-in').hidden = false;
  document.getElementById('nav').hidden = true;
  document.getElementById('sign-out').hidden = true;
  document.getElementById('who').textContent = '';
  document.getElementById('sign-in-error').textContent = message || '';
  document.getElementById('view').replaceChildren();
}

function whoText() {
  if (!me) return '';
  if (me.kind === 'admin') return 'Signed in as operator (admin key)';
  const scope = me.portal
    ? 'portal, ' + me.scope + (me.endpoint_ids ? ', ' + me.endpoint_ids.length + ' endpoint(s)' : '')
    : 'API key';
  return 'Signed in as tenant ' + (me.tenant_name || me.tenant_id) + ' (' + scope + ')';
}

function renderChrome() {
  document.getElementById('sign-in').hidden = true;
  document.getElementById('sign-out').hidden = false;
  const who = document.getElementById('who');
  who.replaceChildren(whoText());
  if (sessionStorage.getItem(OPERATOR_KEY)) {
    who.append(' ', el('button', { class: 'secondary', type: 'button', id: 'back-to-operator', onclick: backToOperator, text: 'Back to operator' }));
  }
  const nav = document.getElementById('nav');
  const links = me.kind === 'admin'
    ? [['#/tenants', 'Tenants'], ['#/cluster', 'Cluster']]
    : (me.endpoint_ids ? [] : [['#/overview', 'Overview']])   // the whole tenant's figures
      .concat([['#/events', 'Events'], ['#/dead-letters', 'Dead letters'], ['#/endpoints', 'Endpoints']])
      .concat(canManage() && !me.endpoint_ids ? [['#/send', 'Send'], ['#/alerts', 'Alerts']] : [])
      .concat(me.endpoint_ids ? [] : [['#/event-types', 'Event types']]);   // the whole tenant's catalogue
  nav.replaceChildren(...links.map(([href, label]) =>
    el('a', { href, class: location.hash.startsWith(href) ? 'active' : null, text: label })));
  nav.hidden = false;
}

// ---- routing ----

async function render() {
  if (stopView) { stopView(); stopView = null; }
  if (takePortalToken()) me = null;   // a portal link opened in a tab that was already here
  if (!sessionStorage.getItem(KEY)) return showSignIn();
  if (!me) {
    const error = await signIn(sessionStorage.getItem(KEY));
    if (error) return showSignIn('That key was not accepted. ' + error);
  }
  const hash = location.hash || (me.kind === 'admin' ? '#/tenants' : '#/events');
  if (!location.hash) history.replaceState(null, '', hash);
  renderChrome();
  const [, view, id] = hash.split('/');
  const views = me.kind === 'admin'
    ? { tenants: tenantsView, cluster: clusterView }
    : { overview: overviewView, events: id ? () => eventView(id) : eventsView,
        'dead-letters': deadLettersView, endpoints: endpointsView, send: sendView, alerts: alertsView,
        'event-types': id ? () => eventTypeView(decodeURIComponent(id)) : eventTypesView };
  const handler = views[view] || Object.values(views)[0];
  try {
    await handler();
  } catch (e) {
    show(el('p', { class: 'error', text: 'Something went wrong: ' + e.message }));
  }
}

// ---- tenant: events ----

function eventRow(e) {
  const attempts = e.deliveries.reduce((n, d) => n + d.attempt_count, 0);
  const copy = el('button', { class: 'secondary', type: 'button', title: 'Copy the id', text: 'Copy',
    onclick: (ev) => { ev.stopPropagation(); navigator.clipboard && navigator.clipboard.writeText(e.id).catch(() => {}); } });
  return el('tr', { class: 'clickable', 'data-event-id': e.id, onclick: () => { location.hash = '#/events/' + e.id; } },
    el('td', {}, el('span', { class: 'mono', text: e.id }), ' ', copy),
    el('td', { text: e.type }),
    el('td', {}, statusBadge(e.status)),
    el('td', { text: e.deliveries.length }),
    el('td', { text: attempts }),
    el('td', { title: e.created_at, text: age(e.created_at) }));
}

function eventTable() {
  return el('table', { id: 'events' },
    el('thead', {}, el('tr', {}, ['Event id', 'Type', 'Status', 'Endpoints', 'Attempts', 'Age'].map(h => el('th', { text: h })))),
    el('tbody'));
}

// Every endpoint of the tenant: GET /v1/endpoints is paged, so walk its pages.
async function allEndpoints() {
  let r = await api('GET', '/v1/endpoints?limit=100');
  if (!r.ok) return r;
  const data = r.json.data.slice();
  while (r.json.next_cursor) {
    r = await api('GET', '/v1/endpoints?limit=100&cursor=' + encodeURIComponent(r.json.next_cursor));
    if (!r.ok) return r;
    data.push(...r.json.data);
  }
  return { status: r.status, ok: true, json: { data }, text: '', headers: r.headers };
}

async function endpointOptions(select) {
  const r = await allEndpoints();
  for (const ep of (r.ok ? r.json.data : [])) {
    select.append(el('option', { value: ep.id, text: (ep.description || ep.url) + ' — ' + ep.id.slice(0, 8) }));
  }
  return r.ok ? r.json.data : [];
}

function toIso(localValue) {
  return localValue ? new Date(localValue).toISOString() : null;
}

async function eventsView(fixedStatus) {
  const status = el('select', { name: 'status' }, el('option', { value: '', text: 'any status' }),
    STATUSES.map(s => el('option', { value: s, text: s })));
  if (fixedStatus) { status.value = fixedStatus; status.disabled = true; }
  const type = el('input', { name: 'type', placeholder: 'type, e.g. user.created' });
  const endpoint = el('select', { name: 'endpoint_id' }, el('option', { value: '', text: 'any endpoint' }));
  const since = el('input', { name: 'since', type: 'datetime-local' });
  const until = el('input', { name: 'until', type: 'datetime-local' });
  const table = eventTable();
  const tbody = table.querySelector('tbody');
  const more = el('button', { class: 'secondary', type: 'button', hidden: true, text: 'Load more' });
  const error = el('p', { class: 'error', role: 'alert' });
  const shown = new Set();
  let cursor = null;

  function query(extra) {
    const q = new URLSearchParams({ limit: '50' });
    if (status.value) q.set('status', status.value);
    if (type.value.trim()) q.set('type', type.value.trim());
    if (endpoint.value) q.set('endpoint_id', endpoint.value);
    if (since.value) q.set('since', toIso(since.value));
    if (until.value) q.set('until', toIso(until.value));
    for (const [k, v] of Object.entries(extra || {})) q.set(k, v);
    return '/v1/events?' + q;
  }

  async function load(reset) {
    if (reset) { tbody.replaceChildren(); shown.clear(); cursor = null; }
    const r = await api('GET', query(cursor ? { cursor } : {}));
    if (!r.ok) { error.textContent = problemText(r); return; }
    error.textContent = '';
    for (const e of r.json.data) {
      if (!shown.has(e.id)) { shown.add(e.id); tbody.append(eventRow(e)); }
    }
    cursor = r.json.next_cursor;
    more.hidden = !cursor;
  }

  // New events appear by polling the first page: the read model answers it with one index
  // range scan, and it needs no connection held open per viewer.
  async function poll() {
    const r = await api('GET', query());
    if (!r.ok) return;
    const fresh = r.json.data.filter(e => !shown.has(e.id));
    for (const e of fresh.reverse()) { shown.add(e.id); tbody.prepend(eventRow(e)); }
    for (const e of r.json.data) {   // statuses move on: refresh the rows on the first page
      const row = tbody.querySelector('tr[data-event-id="' + e.id + '"]');
      if (row) row.replaceWith(eventRow(e));
    }
  }

  const filters = el('form', { class: 'filters', onsubmit: (ev) => { ev.preventDefault(); load(true); } },
    el('label', {}, 'Status', status), el('label', {}, 'Type', type), el('label', {}, 'Endpoint', endpoint),
    el('label', {}, 'Since', since), el('label', {}, 'Until', until), el('button', { type: 'submit', text: 'Filter' }));
  more.addEventListener('click', () => load(false));
  show(el('div', {}, el('h1', {}, fixedStatus ? 'Dead letters ' : 'Events ', el('span', { class: 'live', text: '● live' })),
    filters, error, table, more));
  await endpointOptions(endpoint);
  await load(true);
  const timer = setInterval(poll, POLL_MS);
  stopView = () => clearInterval(timer);
  return { endpoint, since, until };
}

// ---- tenant: one event ----

async function eventView(id) {
  const [event, audit] = await Promise.all([api('GET', '/v1/events/' + encodeURIComponent(id)),
    api('GET', '/v1/events/' + encodeURIComponent(id) + '/audit')]);
  if (!event.ok) return show(el('p', { class: 'error', text: problemText(event) }));
  const e = event.json;
  const message = el('p', { class: 'notice', role: 'status', hidden: true });

  async function act(path, endpointId, what) {
    const r = await api('POST', '/v1/events/' + encodeURIComponent(id) + path, { endpoint_id: endpointId });
    message.hidden = false;
    message.textContent = r.ok ? what + ' started.' : problemText(r);
    if (r.ok) setTimeout(() => { if (location.hash === '#/events/' + id) render(); }, 1000);
  }

  const deliveries = e.deliveries.map(d => el('div', { class: 'delivery', 'data-endpoint-id': d.endpoint_id },
    el('div', {}, el('strong', { text: 'Endpoint ' }), el('span', { class: 'mono', text: d.endpoint_id }), ' ',
      statusBadge(d.status), ' ', el('span', { class: 'muted', text: d.attempt_count + ' attempt(s)' + (d.next_attempt_at ? ', next at ' + d.next_attempt_at : '') })),
    canManage() && (d.status === 'DEAD_LETTERED' || d.status === 'DELIVERED')
      ? el('button', { type: 'button', class: 'replay', onclick: () => act('/replay', d.endpoint_id, 'Replay'), text: 'Replay' }) : null,
    canManage() && d.status === 'RETRY_SCHEDULED'
      ? el('button', { type: 'button', class: 'retry', onclick: () => act('/retry', d.endpoint_id, 'Retry'), text: 'Retry now' }) : null,
    el('table', {}, el('thead', {}, el('tr', {}, ['#', 'Started', 'Status code', 'Latency', 'Error', 'Response'].map(h => el('th', { text: h })))),
      el('tbody', {}, d.attempts.map(a => el('tr', {},
        el('td', { text: a.number }), el('td', { text: a.started_at }), el('td', { text: a.status_code ?? '—' }),
        el('td', { text: a.latency_ms + ' ms' }), el('td', { text: a.error || '' }),
        el('td', {}, el('span', { class: 'mono', text: (a.response_body || '').slice(0, 200) }))))))));

  const entries = audit.ok ? audit.json.entries : [];
  const trail = el('table', {}, el('thead', {}, el('tr', {}, ['#', 'Time', 'Transition', 'Details'].map(h => el('th', { text: h })))),
    el('tbody', {}, entries.map(en => {
      const { sequence_nr, timestamp, type, ...rest } = en;
      return el('tr', {}, el('td', { text: sequence_nr }), el('td', { text: timestamp }), el('td', { text: type }),
        el('td', {}, el('span', { class: 'mono', text: JSON.stringify(rest) })));
    })));

  show(el('div', {},
    el('p', {}, el('a', { href: '#/events', text: '← Events' })),
    el('h1', {}, 'Event ', el('span', { class: 'mono', text: e.id })),
    el('p', {}, 'Type ', el('code', { text: e.type }), ' · ', statusBadge(e.status), ' · accepted ', e.created_at),
    message,
    el('h2', { text: 'Payload' }), el('pre', { id: 'payload', text: e.payload_expunged_at ? 'Expunged at ' + e.payload_expunged_at : pretty(e.payload) }),
    el('h2', { text: 'Deliveries' }), deliveries,
    el('h2', { text: 'Audit trail' }), audit.ok ? trail : el('p', { class: 'error', text: problemText(audit) })));
  // A delivery still on its way: look again shortly.
  if (e.deliveries.some(d => d.status === 'DISPATCHING' || d.status === 'RECEIVED')) {
    const timer = setTimeout(() => { if (location.hash === '#/events/' + id) render(); }, POLL_MS);
    stopView = () => clearTimeout(timer);
  }
}

// ---- tenant: dead letters and recover ----

async function deadLettersView() {
  const list = await eventsView('DEAD_LETTERED');
  if (!canManage()) return;
  const endpoint = el('select', { name: 'recover_endpoint' });
  await endpointOptions(endpoint);
  const since = el('input', { name: 'recover_since', type: 'datetime-local' });
  const until = el('input', { name: 'recover_until', type: 'datetime-local' });
  const message = el('p', { class: 'notice', role: 'status', hidden: true });
  const confirm = el('button', { type: 'button', class: 'danger', hidden: true, text: 'Send them again' });
  let range = null;

  async function count() {
    if (!since.value) { message.hidden = false; message.textContent = 'Choose when the window starts.'; return; }
    range = { since: toIso(since.value), until: until.value ? toIso(until.value) : new Date().toISOString() };
    let n = 0;
    let cursor = null;
    do {   // the same read model recover picks from, page by page
      const q = new URLSearchParams({ status: 'DEAD_LETTERED', endpoint_id: endpoint.value, since: range.since, until: range.until, limit: '100' });
      if (cursor) q.set('cursor', cursor);
      const r = await api('GET', '/v1/events?' + q);
      if (!r.ok) { message.hidden = false; message.textContent = problemText(r); return; }
      n += r.json.data.length;
      cursor = r.json.next_cursor;
    } while (cursor && n < 100000);
    message.hidden = false;
    message.textContent = n + ' dead-lettered deliveries to this endpoint in the window will be sent again.';
    confirm.hidden = n === 0;
  }

  confirm.addEventListener('click', async () => {
    const r = await api('POST', '/v1/endpoints/' + endpoint.value + '/recover', range);
    message.textContent = r.ok ? 'Recovery started for ' + r.json.dead_letters + ' deliveries.' : problemText(r);
    confirm.hidden = true;
  });
  document.getElementById('view').firstChild.append(
    el('h2', { text: 'Recover an endpoint' }),
    el('form', { class: 'inline', onsubmit: (ev) => { ev.preventDefault(); count(); } },
      el('label', {}, 'Endpoint', endpoint), el('label', {}, 'Since', since), el('label', {}, 'Until (default: now)', until),
      el('button', { type: 'submit', text: 'Count' })),
    message, confirm);
  return list;
}

// ---- tenant: send ----

async function sendView() {
  const type = el('input', { name: 'type', value: 'user.created', required: true });
  const payload = el('textarea', { name: 'payload' });
  payload.value = '{\n  "id": 42\n}';
  const endpoint = el('select', { name: 'endpoint_id' }, el('option', { value: '', text: 'every subscribed endpoint' }));
  const result = el('div', { role: 'status' });
  async function send(ev) {
    ev.preventDefault();
    let parsed;
    try { parsed = JSON.parse(payload.value); } catch (e) { result.replaceChildren(el('p', { class: 'error', text: 'The payload is not JSON: ' + e.message })); return; }
    const key = crypto.randomUUID();
    const body = { type: type.value.trim(), payload: parsed };
    if (endpoint.value) body.endpoint_id = endpoint.value;
    const r = await api('POST', '/v1/events', body, { 'Idempotency-Key': key });
    result.replaceChildren(
      el('p', {}, 'Idempotency-Key ', el('code', { id: 'idempotency-key', text: key })),
      r.ok ? el('p', {}, 'Accepted (' + r.status + '): ', el('a', { href: '#/events/' + r.json.event_id, id: 'sent-event', text: r.json.event_id }))
        : el('p', { class: 'error', text: problemText(r) }));
  }
  show(el('div', {}, el('h1', { text: 'Send an event' }),
    el('form', { id: 'send-form', onsubmit: send },
      el('label', {}, 'Type', type), el('label', {}, 'Endpoint', endpoint), el('label', {}, 'Payload (JSON)', payload),
      el('p', {}, el('button', { type: 'submit', text: 'Send' }))),
    result));
  await endpointOptions(endpoint);
}

// ---- tenant: endpoints ----

function endpointForm(existing, onDone) {
  const v = existing || {};
  const url = el('input', { name: 'url', value: v.url || '', size: 50, required: true });
  const description = el('input', { name: 'description', value: v.description || '' });
  const types = el('input', { name: 'event_types', value: (v.event_types || []).join(', '), placeholder: 'empty: every type' });
  const maxInFlight = el('input', { name: 'max_in_flight', type: 'number', value: v.max_in_flight || 10, min: 1, max: 1000 });
  const rate = el('input', { name: 'rate_limit_per_second', type: 'number', value: v.rate_limit_per_second ?? '', min: 1 });
  const timeout = el('input', { name: 'timeout_ms', type: 'number', value: v.timeout_ms || 30000, min: 1 });
  const attempts = el('input', { name: 'max_attempts', type: 'number', value: v.max_attempts || 9, min: 1 });
  const headers = el('textarea', { name: 'headers' });
  headers.value = pretty(v.headers || {});
  const transformation = el('textarea', { name: 'transformation', class: 'transformation', spellcheck: 'false',
    placeholder: 'function handler(webhook) {\n  // webhook: {type, id, payload, headers}\n  return webhook;\n}' });
  transformation.value = v.transformation || '';
  const error = el('p', { class: 'error', role: 'alert' });
  async function submit(ev) {
    ev.preventDefault();
    let parsedHeaders;
    try { parsedHeaders = JSON.parse(headers.value || '{}'); } catch (e) { error.textContent = 'Headers are not JSON: ' + e.message; return; }
    const body = {
      url: url.value.trim(), description: description.value, headers: parsedHeaders,
      event_types: types.value.split(',').map(s => s.trim()).filter(Boolean),
      max_in_flight: Number(maxInFlight.value), timeout_ms: Number(timeout.value), max_attempts: Number(attempts.value),
      rate_limit_per_second: rate.value ? Number(rate.value) : null,
    };
    // Empty clears the transformation; a new endpoint simply has none.
    body.transformation = transformation.value.trim() ? transformation.value : null;
    if (!existing && body.rate_limit_per_second === null) delete body.rate_limit_per_second;
    if (!existing && body.transformation === null) delete body.transformation;
    const r = existing ? await api('PATCH', '/v1/endpoints/' + existing.id, body) : await api('POST', '/v1/endpoints', body);
    if (!r.ok) { error.textContent = problemText(r); return; }
    onDone(r.json);
  }
  return el('form', { class: 'inline endpoint-form', onsubmit: submit },
    el('label', {}, 'URL', url), el('label', {}, 'Description', description), el('label', {}, 'Event types', types),
    el('label', {}, 'Max in flight', maxInFlight), el('label', {}, 'Rate limit /s', rate), el('label', {}, 'Timeout ms', timeout),
    el('label', {}, 'Max attempts', attempts), el('label', {}, 'Headers (JSON)', headers),
    el('label', { class: 'wide' }, 'Transformation (JavaScript, optional)', transformation),
    existing ? transformationPreview(existing.id, transformation) : null,
    el('button', { type: 'submit', text: existing ? 'Save' : 'Create endpoint' }), error);
}

// Runs a sample payload through the transformation as it stands in the form (saved or not)
// and shows what would be sent, as text. Nothing is sent.
function transformationPreview(endpointId, source) {
  const payload = el('textarea', { name: 'preview_payload' });
  payload.value = pretty({ example: true });
  // Enter previews here; it must not submit (save) the endpoint form around it.
  const type = el('input', { name: 'preview_type', value: 'preview', size: 20,
    onkeydown: (e) => { if (e.key === 'Enter') { e.preventDefault(); run(); } } });
  const result = el('pre', { class: 'preview-result', 'aria-live': 'polite' });
  async function run() {
    let parsed;
    try { parsed = JSON.parse(payload.value || '{}'); } catch (e) { result.textContent = 'The payload is not JSON: ' + e.message; return; }
    const body = { payload: parsed, type: type.value.trim() || null };
    if (source.value.trim()) body.transformation = source.value;
    const r = await api('POST', '/v1/endpoints/' + endpointId + '/transformation/preview', body);
    if (!r.ok) { result.className = 'preview-result error'; result.textContent = problemText(r); return; }
    result.className = 'preview-result';
    result.textContent = r.json.cancelled
      ? 'Cancelled: this delivery would not be sent.'
      : 'Body:\n' + pretty(r.json.payload) + '\n\nAdded headers:\n' + pretty(r.json.headers);
  }
  return el('fieldset', { class: 'wide transformation-preview' }, el('legend', { text: 'Preview the transformation' }),
    el('label', {}, 'Sample payload (JSON)', payload), el('label', {}, 'Event type', type),
    el('button', { type: 'button', class: 'secondary', text: 'Preview', onclick: run }), result);
}

async function endpointsView(notice) {
  const r = await allEndpoints();
  if (!r.ok) return show(el('p', { class: 'error', text: problemText(r) }));
  const message = el('div', { role: 'status' });
  const slot = el('div');

  function row(ep) {
    const secret = el('span', { class: 'mono', text: '••••••' });
    const actions = [];
    if (canManage()) {
      actions.push(
        // Lists never carry secrets: asked for on the click, with the manage scope.
        el('button', { type: 'button', class: 'secondary', text: 'Reveal secret', onclick: async (ev) => {
          const res = await api('GET', '/v1/endpoints/' + ep.id + '/secret');
          if (!res.ok) { message.replaceChildren(el('p', { class: 'error', text: problemText(res) })); return; }
          secret.textContent = res.json.secret;
          ev.target.remove();
        } }),
        el('button', { type: 'button', class: 'secondary', text: 'Edit', onclick: () =>
          slot.replaceChildren(el('h2', { text: 'Edit endpoint' }), endpointForm(ep, () => endpointsView(el('p', { text: 'Saved.' })))) }),
        ep.enabled
          ? el('button', { type: 'button', class: 'secondary', text: 'Disable', onclick: () => change('PATCH', ep.id, '', { enabled: false }) })
          : el('button', { type: 'button', class: 'secondary', text: 'Enable', onclick: () => change('POST', ep.id, '/enable') }),
        el('button', { type: 'button', class: 'secondary', text: 'Rotate secret', onclick: () => rotate(ep.id) }),
        ...endpointTools(ep, message),
        el('button', { type: 'button', class: 'danger', text: 'Delete', onclick: () => {
          if (window.confirm('Delete endpoint ' + ep.url + '?')) change('DELETE', ep.id, '');
        } }));
    }
    return el('tr', { 'data-endpoint-id': ep.id },
      el('td', {}, el('div', { text: ep.url }), el('div', { class: 'muted', text: ep.description || '' }),
        el('div', { class: 'muted mono', text: ep.id })),
      el('td', { text: ep.event_types.length ? ep.event_types.join(', ') : 'every type' }),
      el('td', { class: 'state' }, endpointState(ep)),
      el('td', { class: 'health', text: '…' }),
      el('td', {}, secret), el('td', {}, actions));
  }

  async function change(method, id, suffix, body) {
    const res = await api(method, '/v1/endpoints/' + id + suffix, body);
    if (!res.ok) { message.replaceChildren(el('p', { class: 'error', text: problemText(res) })); return; }
    endpointsView(el('p', { text: 'Done.' }));
  }

  async function rotate(id) {
    const res = await api('POST', '/v1/endpoints/' + id + '/rotate-secret');
    if (!res.ok) { message.replaceChildren(el('p', { class: 'error', text: problemText(res) })); return; }
    message.replaceChildren(el('div', { class: 'secret' }, 'New secret (shown once here): ',
      el('span', { class: 'mono', id: 'new-secret', text: res.json.secret }),
      '. The old one keeps signing beside it until ', res.json.previous_secret_expires_at || 'it expires', '.'));
  }

  const table = el('table', { id: 'endpoints' },
    el('thead', {}, el('tr', {}, ['Endpoint', 'Event types', 'State', 'Health', 'Secret', ''].map(h => el('th', { text: h })))),
    el('tbody', {}, r.json.data.map(row)));
  show(el('div', {}, el('h1', { text: 'Endpoints' }), message, table, slot));
  if (notice) message.replaceChildren(notice);
  if (canManage() && !me.endpoint_ids) {
    slot.replaceChildren(el('h2', { text: 'New endpoint' }), endpointForm(null, (created) =>
      endpointsView(el('div', { class: 'secret' }, 'Created ',
        el('span', { class: 'mono', id: 'created-endpoint', text: created.id }), '. Its signing secret, shown here once: ',
        el('span', { class: 'mono', text: created.secret })))));
  }
  for (const ep of r.json.data) fillHealth(ep.id);
}

// An endpoint's status (active, disabled, pending verification) and, when it was asked
// for, where its verification stands; the error is a receiver's doing: text only.
function endpointState(ep) {
  const status = ep.status || (ep.enabled ? 'active' : 'disabled');
  const v = ep.verification;
  return [
    el('span', { class: 'endpoint-status', 'data-status': status, text: status.replace('_', ' ') }),
    v ? el('div', { class: 'muted verification', 'data-state': v.state,
      text: 'verification ' + v.state + (v.error ? ': ' + v.error : '') }) : null,
  ];
}

// Verify (POST …/verify) and Send test (POST …/test) for one endpoint's row.
function endpointTools(ep, message) {
  async function verify() {
    const r = await api('POST', '/v1/endpoints/' + ep.id + '/verify');
    if (!r.ok) { message.replaceChildren(el('p', { class: 'error', text: problemText(r) })); return; }
    message.replaceChildren(el('p', { text: 'Verification started: a challenge is on its way to ' + ep.url + '.' }));
    const outcome = await verificationOutcome(ep.id);
    if (message.isConnected) endpointsView(outcome); // unless the user has moved on
  }
  function sendTest() {
    const type = el('input', { name: 'test_type', placeholder: 'empty: a webhook.test ping' });
    async function submit(ev) {
      ev.preventDefault();
      const body = type.value.trim() ? { type: type.value.trim() } : {};
      const r = await api('POST', '/v1/endpoints/' + ep.id + '/test', body);
      if (!r.ok) { message.replaceChildren(el('p', { class: 'error', text: problemText(r) })); return; }
      message.replaceChildren(el('p', {}, 'Test event ', el('a', { class: 'test-event mono', href: '#/events/' + r.json.event_id,
        text: r.json.event_id }), ' (' + r.json.type + ') accepted for ' + ep.url + '.'));
    }
    message.replaceChildren(el('form', { class: 'inline send-test-form', onsubmit: submit },
      el('label', {}, 'Send a test event to ' + ep.url + ' — type', type),
      el('button', { type: 'submit', text: 'Send' })));
    type.focus();
  }
  return [
    el('button', { type: 'button', class: 'secondary verify', text: 'Verify', onclick: verify }),
    el('button', { type: 'button', class: 'secondary send-test', text: 'Send test', disabled: ep.status !== 'active',
      title: ep.status === 'active' ? null : 'the endpoint is ' + (ep.status || '').replace('_', ' '), onclick: sendTest }),
  ];
}

// Asks for the endpoint until its verification is no longer under way (up to 30 s):
// the outcome comes from the entity, which answers /verify before the receiver does.
async function verificationOutcome(id) {
  for (let i = 0; i < 30; i++) {
    await new Promise(resolve => setTimeout(resolve, 1000));
    const r = await api('GET', '/v1/endpoints/' + id);
    if (!r.ok) return el('p', { class: 'error', text: problemText(r) });
    const v = r.json.verification;
    if (v && v.state === 'verified') return el('p', { text: 'Verified: ' + r.json.url + ' receives events now.' });
    if (v && v.state === 'failed') return el('p', { class: 'error', text: 'Verification failed: ' + (v.error || '') });
  }
  return el('p', { text: 'The verification is still under way; its outcome shows in the list.' });
}

async function fillHealth(id) {
  const r = await api('GET', '/v1/endpoints/' + id + '/health');
  const cell = document.querySelector('tr[data-endpoint-id="' + id + '"] td.health');
  if (!cell) return;
  if (!r.ok) { cell.textContent = '—'; return; }
  const h = r.json;
  const rate = h.success_rate_last_hour === null || h.success_rate_last_hour === undefined
    ? 'no attempts in the last hour' : Math.round(h.success_rate_last_hour * 100) + '% ok in the last hour';
  cell.textContent = 'circuit ' + h.circuit + ', ' + h.in_flight + ' in flight, ' + rate;
}

// ---- tenant: alert channels ----

const ALERT_KINDS = ['webhook', 'slack', 'pagerduty', 'email'];
const ALERT_TYPES = ['endpoint.disabled', 'endpoint.enabled', 'endpoint.circuit_opened', 'endpoint.circuit_closed',
  'delivery.dead_lettered'];
const SETTLED = ['DELIVERED', 'DEAD_LETTERED', 'CANCELLED'];

// A channel's URL can be a credential (a Slack incoming-webhook URL is one), so only its
// host and the last four characters of the rest are shown; the API masks a routing key.
function alertTarget(ch) {
  if (ch.kind === 'email') return (ch.to || []).join(', ');
  let target = '';
  if (ch.url) {
    try {
      const u = new URL(ch.url);
      const rest = (u.pathname === '/' ? '' : u.pathname) + u.search;
      target = u.protocol + '//' + u.host + (rest ? '/…' + rest.slice(-4) : '');
    } catch (e) {
      target = '…' + ch.url.slice(-4);
    }
  }
  if (ch.kind === 'pagerduty' && ch.routing_key) target = 'routing key ' + ch.routing_key + (target ? ' at ' + target : '');
  return target;
}

function alertSendRow(s) {
  const status = s.delivery_status ? statusBadge(s.delivery_status) : null;
  return el('tr', { class: 'alert-send' },
    el('td', { title: s.at, text: age(s.at) + ' ago' }),
    el('td', {}, el('div', { class: 'summary', text: s.summary || '' }), el('div', { class: 'muted', text: (s.types || []).join(', ') })),
    el('td', {}, el('span', { class: 'outcome', text: s.outcome }), status ? ' ' : null, status,
      s.error ? el('div', { class: 'error', text: s.error }) : null),
    el('td', {}, s.event_id ? el('a', { class: 'send-event mono', href: '#/events/' + s.event_id, text: s.event_id.slice(0, 8) }) : '—'),
    el('td', { class: 'answer' }));
}

async function alertsView(notice) {
  const r = await api('GET', '/v1/alert-channels');
  if (!r.ok) return show(el('div', {}, el('h1', { text: 'Alerts' }), el('p', { class: 'error', text: problemText(r) })));
  const message = el('div', { role: 'status' });
  const list = el('div', { id: 'alert-channels' });
  const boxes = new Map();   // channel id -> its box
  const unsettled = new Set();   // channels with a send still on its way: polled
  const filling = new Set();     // channels being asked for now: a slow answer is not asked twice

  // A channel's latest sends, with the receiver's answer to the newest one carried by an
  // event (the start of its last attempt's response body).
  async function fillSends(id) {
    if (filling.has(id)) return;
    filling.add(id);
    try { await fillSendsNow(id); } finally { filling.delete(id); }
  }

  async function fillSendsNow(id) {
    const box = boxes.get(id);
    const d = await api('GET', '/v1/alert-channels/' + id);
    if (!box || !box.isConnected) return;
    const tbody = box.querySelector('tbody');
    if (!d.ok) { tbody.replaceChildren(el('tr', {}, el('td', { colspan: 5, class: 'error', text: problemText(d) }))); return; }
    const sends = d.json.last_sends || [];
    tbody.replaceChildren(...(sends.length ? sends.map(alertSendRow)
      : [el('tr', {}, el('td', { colspan: 5, class: 'muted', text: 'nothing sent yet' }))]));
    if (sends.some(s => s.event_id && !SETTLED.includes(s.delivery_status))) unsettled.add(id);
    else unsettled.delete(id);
    const newest = sends.findIndex(s => s.event_id);
    if (newest < 0) return;
    const e = await api('GET', '/v1/events/' + encodeURIComponent(sends[newest].event_id));
    const cell = tbody.querySelectorAll('tr.alert-send')[newest]?.querySelector('td.answer');
    if (!e.ok || !cell) return;
    const attempts = e.json.deliveries.flatMap(x => x.attempts);
    const last = attempts[attempts.length - 1];
    cell.textContent = last ? (last.status_code ?? last.error ?? '') + ' ' + (last.response_body || '').slice(0, 200) : '';
  }

  async function test(id) {
    const t = await api('POST', '/v1/alert-channels/' + id + '/test');
    message.replaceChildren(t.ok
      ? el('p', {}, 'Test alert ' + t.json.outcome + (t.json.error ? ': ' + t.json.error : '') + '.')
      : el('p', { class: 'error', text: problemText(t) }));
    if (t.ok) { unsettled.add(id); fillSends(id); }
  }

  async function remove(ch) {
    if (!window.confirm('Delete the ' + ch.kind + ' alert channel ' + alertTarget(ch) + '?')) return;
    const d = await api('DELETE', '/v1/alert-channels/' + ch.id);
    if (!d.ok) { message.replaceChildren(el('p', { class: 'error', text: problemText(d) })); return; }
    alertsView(el('p', { text: 'Deleted.' }));
  }

  for (const ch of r.json.data) {
    const box = el('div', { class: 'delivery alert-channel', 'data-channel-id': ch.id },
      el('div', {}, el('strong', { class: 'kind', text: ch.kind }), ' ', el('span', { class: 'target mono', text: alertTarget(ch) }),
        ' ', el('span', { class: 'muted', text: 'hears ' + (ch.event_types.length ? ch.event_types.join(', ') : 'every type') })),
      el('p', {}, el('button', { type: 'button', class: 'secondary send-test', text: 'Send test', onclick: () => test(ch.id) }), ' ',
        el('button', { type: 'button', class: 'danger', text: 'Delete', onclick: () => remove(ch) })),
      el('table', {}, el('thead', {}, el('tr', {}, ['When', 'What', 'Outcome', 'Event', "Receiver's answer"].map(h => el('th', { text: h })))),
        el('tbody')));
    boxes.set(ch.id, box);
    list.append(box);
  }
  if (!r.json.data.length) list.append(el('p', { class: 'muted', text: 'No alert channels yet.' }));

  show(el('div', {}, el('h1', { text: 'Alerts' }), message, list, el('h2', { text: 'New alert channel' }), alertChannelForm(message)));
  if (notice) message.replaceChildren(notice);
  await Promise.all(r.json.data.map(ch => fillSends(ch.id)));
  // Only channels with a send on its way are asked again, until it is delivered or dead.
  const timer = setInterval(() => { for (const id of unsettled) fillSends(id); }, POLL_MS);
  stopView = () => clearInterval(timer);
}

function alertChannelForm(message) {
  const kind = el('select', { name: 'kind' }, ALERT_KINDS.map(k => el('option', { value: k, text: k })));
  const url = el('input', { name: 'url', size: 40, placeholder: 'https://… (pagerduty: optional)' });
  const routingKey = el('input', { name: 'routing_key', type: 'password', autocomplete: 'off', placeholder: 'pagerduty only' });
  const to = el('input', { name: 'to', placeholder: 'email: a@example.com, b@example.com' });
  const types = el('input', { name: 'event_types', placeholder: 'empty: every type', title: ALERT_TYPES.join(', ') });
  const split = (v) => v.split(',').map(x => x.trim()).filter(Boolean);
  async function submit(ev) {
    ev.preventDefault();
    const body = { kind: kind.value, event_types: split(types.value) };
    if (url.value.trim()) body.url = url.value.trim();
    if (routingKey.value.trim()) body.routing_key = routingKey.value.trim();
    if (to.value.trim()) body.to = split(to.value);
    const c = await api('POST', '/v1/alert-channels', body);
    if (!c.ok) { message.replaceChildren(el('p', { class: 'error', text: problemText(c) })); return; }
    alertsView(el('div', { class: 'secret' }, 'Created ', el('span', { class: 'mono', id: 'created-channel', text: c.json.id }),
      c.json.secret ? ['. Its signing secret, shown here once: ', el('span', { class: 'mono', text: c.json.secret })] : '.'));
  }
  return el('form', { class: 'inline alert-channel-form', onsubmit: submit },
    el('label', {}, 'Kind', kind), el('label', {}, 'URL', url), el('label', {}, 'Routing key', routingKey),
    el('label', {}, 'To', to), el('label', {}, 'Event types', types),
    el('button', { type: 'submit', text: 'Create channel' }));
}

// ---- tenant: overview ----

function lineChart(buckets) {
  const W = 720, H = 180, P = 28;
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', '0 0 ' + W + ' ' + H);
  svg.setAttribute('class', 'chart');
  svg.setAttribute('width', W);
  svg.setAttribute('height', H);
  const perSecond = (n, b) => n / b;
  const series = (field) => buckets.map(b => perSecond(b[field], b.seconds));
  const max = Math.max(1e-9, ...series('accepted'), ...series('delivered'));
  const x = (i) => P + (W - 2 * P) * (buckets.length <= 1 ? 0 : i / (buckets.length - 1));
  const y = (v) => H - P - (H - 2 * P) * (v / max);
  const line = (x1, y1, x2, y2) => {
    const l = document.createElementNS(ns, 'line');
    for (const [k, v] of Object.entries({ x1, y1, x2, y2 })) l.setAttribute(k, v);
    l.setAttribute('class', 'axis');
    return l;
  };
  svg.append(line(P, H - P, W - P, H - P), line(P, P, P, H - P));
  const label = document.createElementNS(ns, 'text');
  label.setAttribute('x', 2); label.setAttribute('y', P - 8);
  label.textContent = max.toFixed(2) + '/s';
  svg.append(label);
  for (const [text, at, anchor] of [['15 min ago', P, 'start'], ['now', W - P, 'end']]) {
    const t = document.createElementNS(ns, 'text');
    t.setAttribute('x', at); t.setAttribute('y', H - 8); t.setAttribute('text-anchor', anchor);
    t.textContent = text;
    svg.append(t);
  }
  for (const field of ['accepted', 'delivered']) {
    const path = document.createElementNS(ns, 'polyline');
    path.setAttribute('points', series(field).map((v, i) => x(i) + ',' + y(v)).join(' '));
    path.setAttribute('class', field);
    svg.append(path);
  }
  return svg;
}

async function overviewView() {
  const r = await api('GET', '/v1/stats?window=15m');
  if (!r.ok) return show(el('div', {}, el('h1', { text: 'Overview' }), el('p', { class: 'error', text: problemText(r) })));
  const s = r.json;
  const buckets = s.buckets.map(b => Object.assign({ seconds: s.bucket_seconds }, b));
  const card = (value, label, id) => el('div', { class: 'card', id }, el('div', { class: 'value', text: value }), el('div', { class: 'label', text: label }));
  const e = s.endpoints || {};
  show(el('div', {}, el('h1', { text: 'Overview — last 15 minutes' }),
    el('div', { class: 'cards' },
      card(s.success_rate === null ? '—' : Math.round(s.success_rate * 100) + '%', 'attempts succeeded', 'success-rate'),
      card(s.dead_letters, 'dead letters', 'dead-letters'),
      card((e.failing || 0) + ' / ' + (e.circuit_open || 0) + ' / ' + (e.disabled || 0), 'endpoints failing / circuit open / disabled', 'endpoint-trouble')),
    el('div', { class: 'legend' }, el('span', { class: 'accepted', text: '— accepted per second' }), el('span', { class: 'delivered', text: '— delivered per second' })),
    lineChart(buckets)));
  const timer = setTimeout(() => { if (location.hash === '#/overview') render(); }, 10000);
  stopView = () => clearTimeout(timer);
}

// ---- operator ----

async function tenantsView() {
  const r = await api('GET', '/v1/tenants');
  if (!r.ok) return show(el('p', { class: 'error', text: problemText(r) }));
  const name = el('input', { name: 'tenant_name', placeholder: 'name', required: true });
  const message = el('div', { role: 'status' });
  async function create(ev) {
    ev.preventDefault();
    const c = await api('POST', '/v1/tenants', { name: name.value.trim() });
    if (!c.ok) { message.replaceChildren(el('p', { class: 'error', text: problemText(c) })); return; }
    await tenantsView();
    document.querySelector('#view [role=status]').replaceChildren(el('div', { class: 'secret' },
      'Tenant ', el('strong', { text: c.json.name }), ' created. Its API key, shown this once: ',
      el('span', { class: 'mono', id: 'new-tenant-key', text: c.json.api_key })));
  }
  // A tenant's own retention period in days; empty is the node's default.
  function retention(t) {
    const days = el('input', { type: 'number', name: 'retention_period_days', min: 1, max: 36500, placeholder: 'default',
      value: t.retention_period_days === null ? '' : String(t.retention_period_days) });
    async function save(ev) {
      ev.preventDefault();
      const value = days.value.trim() === '' ? null : Number(days.value);
      const u = await api('PATCH', '/v1/tenants/' + t.id, { retention_period_days: value });
      message.replaceChildren(el('p', u.ok ? { text: 'Retention of ' + t.name + ': '
        + (u.json.retention_period_days === null ? 'the default period' : u.json.retention_period_days + ' days') + '.' }
        : { class: 'error', text: problemText(u) }));
    }
    return el('form', { class: 'inline retention', onsubmit: save }, days, el('button', { type: 'submit', class: 'secondary', text: 'Save' }));
  }
  const rows = r.json.data.map(t => el('tr', { 'data-tenant-id': t.id },
    el('td', { text: t.name }), el('td', {}, el('span', { class: 'mono', text: t.id })), el('td', { text: t.created_at }),
    el('td', { text: t.api_keys }), el('td', { text: t.endpoints }),
    el('td', { text: t.dead_letters >= 10000 ? '10000+' : t.dead_letters }),
    el('td', {}, retention(t)),
    el('td', {}, el('button', { type: 'button', class: 'secondary open-tenant', text: 'Open', onclick: () => openTenant(t.id) }))));
  show(el('div', {}, el('h1', { text: 'Tenants' }), message,
    el('form', { class: 'inline', onsubmit: create }, el('label', {}, 'New tenant', name), el('button', { type: 'submit', text: 'Create tenant' })),
    el('table', { id: 'tenants' }, el('thead', {}, el('tr', {}, ['Name', 'Id', 'Created', 'Keys', 'Endpoints', 'Dead letters', 'Retention (days)', ''].map(h => el('th', { text: h })))),
      el('tbody', {}, rows))));
}

// The operator looks at a tenant through a short-lived portal token with manage scope,
// so the tenant's own keys are never needed, and "Back to operator" restores the admin key.
async function openTenant(tenantId) {
  const r = await api('POST', '/v1/portal-sessions', { tenant_id: tenantId, scope: 'manage' });
  if (!r.ok) {
    document.querySelector('#view [role=status]').replaceChildren(el('p', { class: 'error', text: problemText(r) }));
    return;
  }
  sessionStorage.setItem(OPERATOR_KEY, sessionStorage.getItem(KEY));
  sessionStorage.setItem(KEY, r.json.token);
  me = null;
  go('#/events');
}

function backToOperator() {
  sessionStorage.setItem(KEY, sessionStorage.getItem(OPERATOR_KEY));
  sessionStorage.removeItem(OPERATOR_KEY);
  me = null;
  go('#/tenants');
}

async function clusterView() {
  const r = await api('GET', '/v1/cluster');
  if (!r.ok) return show(el('p', { class: 'error', text: problemText(r) }));
  const c = r.json;
  show(el('div', {}, el('h1', { text: 'Cluster' }),
    el('p', {}, 'This node: ', el('code', { text: c.self }), ' · leader: ', el('code', { text: c.leader || '—' })),
    el('table', { id: 'members' }, el('thead', {}, el('tr', {}, ['Member', 'Status', 'Reachable', 'Shards and live entities'].map(h => el('th', { text: h })))),
      el('tbody', {}, c.members.map(m => el('tr', {},
        el('td', {}, el('code', { text: m.address }), m.self ? ' (this node)' : ''), el('td', { text: m.status }),
        el('td', { text: m.reachable ? 'yes' : 'NO' }),
        el('td', { text: Object.entries(m.sharding || {}).map(([k, v]) => k + ': ' + v.shards + ' shards, ' + v.entities + ' entities').join('; ') })))))));
}

// ---- tenant: event types (the catalogue) ----

// A JSON textarea's value: undefined when empty (leave it out), or the parsed value; throws
// with the field's name when it is not JSON.
function jsonField(textarea, label) {
  const text = textarea.value.trim();
  if (!text) return undefined;
  try { return JSON.parse(text); } catch (e) { throw new Error(label + ' is not JSON: ' + e.message); }
}

// A problem as text, with a schema violation's errors listed one per line (pointer: message).
function problemBlock(r) {
  const box = el('div', { class: 'error', role: 'alert' }, el('p', { text: problemText(r) }));
  const errors = (r.json && Array.isArray(r.json.errors)) ? r.json.errors : [];
  if (errors.length) {
    box.append(el('ul', { class: 'violations' }, errors.map(e =>
      el('li', {}, el('code', { class: 'pointer', text: e.pointer || '(the whole payload)' }), ' ', e.message))));
  }
  return box;
}

function eventTypeForm(existing, onDone) {
  const v = existing || {};
  const name = el('input', { name: 'name', value: v.name || '', size: 30, required: true,
    disabled: existing ? true : null });
  const description = el('input', { name: 'description', value: v.description || '', size: 50 });
  const schema = el('textarea', { name: 'schema', rows: 10, cols: 60, placeholder: '{"type": "object", ...}  (JSON Schema 2020-12; empty: none)' });
  schema.value = v.schema === undefined || v.schema === null ? '' : pretty(v.schema);
  const example = el('textarea', { name: 'example', rows: 5, cols: 60, placeholder: '{...}  (an example payload; empty: none)' });
  example.value = v.example === undefined || v.example === null ? '' : pretty(v.example);
  const error = el('div', { class: 'form-error' });
  async function submit(ev) {
    ev.preventDefault();
    error.replaceChildren();
    const body = { description: description.value };
    try {
      const s = jsonField(schema, 'The schema');
      const x = jsonField(example, 'The example');
      // Emptied on an existing type: removed.
      body.schema = s === undefined ? (existing ? null : undefined) : s;
      body.example = x === undefined ? (existing ? null : undefined) : x;
    } catch (e) { error.replaceChildren(el('p', { class: 'error', text: e.message })); return; }
    if (!existing) body.name = name.value.trim();
    const r = existing
      ? await api('PATCH', '/v1/event-types/' + encodeURIComponent(existing.name), body)
      : await api('POST', '/v1/event-types', body);
    if (!r.ok) { error.replaceChildren(problemBlock(r)); return; }
    onDone(r.json);
  }
  return el('form', { class: 'inline event-type-form', onsubmit: submit },
    el('label', {}, 'Name', name), el('label', {}, 'Description', description),
    el('label', {}, 'Schema (JSON Schema 2020-12)', schema), el('label', {}, 'Example payload (JSON)', example),
    el('button', { type: 'submit', text: existing ? 'Save' : 'Create event type' }), error);
}

async function setArchived(t, archived, message, after) {
  const r = await api('PATCH', '/v1/event-types/' + encodeURIComponent(t.name), { archived });
  if (!r.ok) { message.replaceChildren(problemBlock(r)); return; }
  after(el('p', { text: (archived ? 'Archived ' : 'Unarchived ') + t.name + '.' }));
}

async function eventTypesView(notice) {
  const message = el('div', { role: 'status' });
  const types = [];
  let cursor = null;
  do {   // the whole catalogue: at most 1000 types, 100 a page
    const r = await api('GET', '/v1/event-types?limit=100' + (cursor ? '&cursor=' + encodeURIComponent(cursor) : ''));
    if (!r.ok) return show(el('div', {}, el('h1', { text: 'Event types' }), problemBlock(r)));
    types.push(...r.json.data);
    cursor = r.json.next_cursor;
  } while (cursor);
  const settings = await api('GET', '/v1/event-type-settings');
  const require = el('input', { type: 'checkbox', name: 'require_registered_types', id: 'require-registered',
    checked: settings.ok && settings.json.require_registered_types, disabled: !canManage() });
  require.addEventListener('change', async () => {
    const r = await api('PATCH', '/v1/event-type-settings', { require_registered_types: require.checked });
    message.replaceChildren(r.ok ? el('p', { text: r.json.require_registered_types
      ? 'Events of types that are not in the catalogue are now refused.' : 'Events of any type are accepted again.' })
      : problemBlock(r));
    if (!r.ok) require.checked = !require.checked;
  });
  const rows = types.map(t => el('tr', { class: 'event-type' + (t.archived ? ' archived' : ''), 'data-name': t.name },
    el('td', {}, el('a', { href: '#/event-types/' + encodeURIComponent(t.name), class: 'mono', text: t.name })),
    el('td', { text: t.description }),
    el('td', { text: t.schema === null ? 'none' : 'yes' }),
    el('td', { class: 'archived-flag', text: t.archived ? 'archived' : '' }),
    el('td', { text: age(t.updated_at) + ' ago' }),
    canManage() ? el('td', {}, el('button', { type: 'button', class: 'secondary archive', text: t.archived ? 'Unarchive' : 'Archive',
      onclick: () => setArchived(t, !t.archived, message, eventTypesView) })) : null));
  show(el('div', {}, el('h1', { text: 'Event types' }),
    el('p', { class: 'muted', text: 'The types your producers send, with the JSON Schema each payload must match. '
      + 'Archived types are refused at ingest.' }),
    el('p', {}, el('label', {}, require, ' Refuse events whose type is not in this catalogue')),
    message,
    types.length
      ? el('table', { id: 'event-types' }, el('thead', {}, el('tr', {}, ['Name', 'Description', 'Schema', '', 'Changed']
          .concat(canManage() ? [''] : []).map(h => el('th', { text: h })))), el('tbody', {}, rows))
      : el('p', { class: 'muted', text: 'No event types yet.' }),
    canManage() ? [el('h2', { text: 'New event type' }),
      eventTypeForm(null, t => eventTypesView(el('p', {}, 'Created ', el('span', { class: 'mono', id: 'created-type', text: t.name }), '.')))] : null));
  if (notice) message.replaceChildren(notice);
}

async function eventTypeView(name) {
  const r = await api('GET', '/v1/event-types/' + encodeURIComponent(name));
  if (!r.ok) return show(el('div', {}, el('h1', { text: 'Event type' }), problemBlock(r)));
  const t = r.json;
  const message = el('div', { role: 'status' });
  const audit = await api('GET', '/v1/event-types/' + encodeURIComponent(name) + '/audit');
  const reload = (notice) => eventTypeView(name).then(() => notice && document.querySelector('#event-type [role=status]')?.replaceChildren(notice));
  show(el('div', { id: 'event-type' },
    el('p', {}, el('a', { href: '#/event-types', text: '← Event types' })),
    el('h1', {}, el('span', { class: 'mono', id: 'type-name', text: t.name }), t.archived ? el('span', { class: 'muted', text: ' (archived)' }) : null),
    el('p', { id: 'type-description', text: t.description }),
    message,
    el('h2', { text: 'Schema' }),
    t.schema === null ? el('p', { class: 'muted', text: 'None: any JSON object is accepted.' }) : el('pre', { id: 'type-schema', text: pretty(t.schema) }),
    el('h2', { text: 'Example' }),
    t.example === null ? el('p', { class: 'muted', text: 'None.' }) : el('pre', { id: 'type-example', text: pretty(t.example) }),
    canManage() ? [el('h2', { text: 'Change' }),
      el('p', {}, el('button', { type: 'button', class: 'secondary archive', text: t.archived ? 'Unarchive' : 'Archive',
        onclick: () => setArchived(t, !t.archived, message, reload) })),
      eventTypeForm(t, () => reload(el('p', { text: 'Saved.' })))] : null,
    el('h2', { text: 'History' }),
    audit.ok ? el('table', { id: 'type-audit' }, el('thead', {}, el('tr', {}, ['When', 'What', 'Who', 'Changed'].map(h => el('th', { text: h })))),
      el('tbody', {}, audit.json.entries.map(e => el('tr', {},
        el('td', { text: e.at }), el('td', { text: e.action }), el('td', { class: 'mono', text: e.by }),
        el('td', { class: 'mono', text: Object.keys(e.changes).join(', ') })))))
      : problemBlock(audit)));
}

// ---- start ----

// A portal link carries its token in the fragment; it is read once and leaves the address
// bar (and the history) at once.
function takePortalToken() {
  const match = /^#portal_token=([A-Za-z0-9._-]+)/.exec(location.hash);
  if (!match) return false;
  sessionStorage.setItem(KEY, match[1]);
  sessionStorage.removeItem(OPERATOR_KEY);
  history.replaceState(null, '', location.pathname + '#/events');
  return true;
}

document.addEventListener('DOMContentLoaded', () => {
  document.getElementById('sign-in-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const input = document.getElementById('api_key');
    const key = input.value.trim();
    if (!key) return;
    const error = await signIn(key);
    input.value = '';
    if (error) return showSignIn('That key was not accepted. ' + error);
    go(me.kind === 'admin' ? '#/tenants' : '#/events');
  });
  document.getElementById('sign-out').addEventListener('click', signOut);
  window.addEventListener('hashchange', render);
  render();
});
