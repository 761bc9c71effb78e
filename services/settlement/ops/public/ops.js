// The operations dashboard's script: sign in (POST /auth/token, the tokens kept in sessionStorage so a
// reload keeps the session and closing the tab ends it), poll /ops/api/overview, follow the gateway's
// WebSocket (/ws) for live events, and run the operator actions after an explicit confirmation.
// Data from the server only ever reaches the page through textContent, never as HTML.
(function () {
  'use strict';
  /** Panels refresh this often; the WebSocket makes the event counters live in between. */
  const POLL_MS = 2000;
  /** Live events listed; older ones drop off the list (the counters keep counting). */
  const EVENTS_SHOWN_MAX = 40;
  /** WebSocket reconnect backoff bounds. */
  const RECONNECT_MS_MIN = 500;
  const RECONNECT_MS_MAX = 10000;
  const STORE = window.sessionStorage;
  const $ = (id) => document.getElementById(id);

  let pollTimer;
  let socket;
  let reconnectMs = RECONNECT_MS_MIN;
  let lastEventId;
  let liveEvents = 0;
  let lastOverview;

  // --- session --------------------------------------------------------------------------------------
  const session = {
    get access() { return STORE.getItem('fluxiq.ops.access'); },
    get refresh() { return STORE.getItem('fluxiq.ops.refresh'); },
    save(t) {
      STORE.setItem('fluxiq.ops.access', t.access_token);
      if (t.refresh_token) STORE.setItem('fluxiq.ops.refresh', t.refresh_token);
    },
    clear() { STORE.removeItem('fluxiq.ops.access'); STORE.removeItem('fluxiq.ops.refresh'); },
  };

  async function token(body) {
    const res = await fetch('/auth/token', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const json = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(json.detail || json.title || `sign-in failed (${res.status})`);
    return json;
  }

  async function refreshSession() {
    if (!session.refresh) return false;
    try {
      session.save(await token({ grant_type: 'refresh_token', refresh_token: session.refresh }));
      return true;
    } catch {
      return false;
    }
  }

  /** fetch with the access token; one refresh on 401, then back to the sign-in form. */
  async function api(method, path, body) {
    const call = () => fetch(path, {
      method,
      headers: { authorization: `Bearer ${session.access}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    let res = await call();
    if (res.status === 401 && (await refreshSession())) res = await call();
    if (res.status === 401) {
      signOut('your session ended; sign in again');
      throw new Error('session ended');
    }
    const json = await res.json().catch(() => null);
    if (!res.ok) throw new Error((json && (json.detail || json.title)) || `${method} ${path}: ${res.status}`);
    return json;
  }

  function showDashboard() {
    $('login').hidden = true;
    $('dashboard').hidden = false;
    $('logout').hidden = false;
    poll();
    connect();
  }

  function signOut(message) {
    session.clear();
    clearTimeout(pollTimer);
    if (socket) { socket.onclose = null; socket.close(); socket = undefined; }
    $('dashboard').hidden = true;
    $('logout').hidden = true;
    $('login').hidden = false;
    $('login-error').textContent = message || '';
    setWs('offline', '');
  }

  // --- rendering helpers ----------------------------------------------------------------------------
  function cell(text, cls) {
    const td = document.createElement('td');
    td.textContent = text === null || text === undefined ? '–' : String(text);
    td.title = td.textContent;
    if (cls) td.className = cls;
    return td;
  }

  function pill(text, kind) {
    const s = document.createElement('span');
    s.className = `pill ${kind || ''}`;
    s.textContent = text;
    return s;
  }

  function button(label, onClick, testId) {
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = label;
    if (testId) b.dataset.action = testId;
    b.addEventListener('click', onClick);
    return b;
  }

  /** Replaces a table's rows; `row(item)` returns the cells; a panel in error shows its reason. */
  function fill(tableId, items, row, empty) {
    const body = $(tableId).tBodies[0];
    body.replaceChildren();
    const cols = $(tableId).tHead.rows[0].cells.length;
    if (items && items.error) {
      const tr = document.createElement('tr');
      const td = cell(items.error, 'err');
      td.colSpan = cols;
      tr.append(td);
      return body.append(tr);
    }
    if (!items || items.length === 0) {
      const tr = document.createElement('tr');
      const td = cell(empty || 'none', 'muted');
      td.colSpan = cols;
      tr.append(td);
      return body.append(tr);
    }
    for (const item of items) {
      const tr = document.createElement('tr');
      for (const c of row(item)) tr.append(c instanceof Node ? wrap(c) : cell(c));
      body.append(tr);
    }
    applyFilter(tableId);
  }

  function wrap(node) {
    if (node.tagName === 'TD') return node;
    const td = document.createElement('td');
    td.append(node);
    return td;
  }

  function applyFilter(tableId) {
    const input = document.querySelector(`input.filter[data-table="${tableId}"]`);
    const q = input ? input.value.trim().toLowerCase() : '';
    for (const tr of $(tableId).tBodies[0].rows) tr.hidden = q !== '' && !tr.textContent.toLowerCase().includes(q);
  }

  const rate = (v) => (typeof v === 'number' ? (v >= 10 ? v.toFixed(0) : v.toFixed(1)) : '–');
  const ms = (v) => (v === null || v === undefined ? '–' : String(v));
  const shortTime = (iso) => (iso ? iso.replace('T', ' ').slice(5, 16) : '–');
  function left(msLeft) {
    if (msLeft <= 0) return 'overdue';
    const h = Math.floor(msLeft / 3600000);
    return h >= 24 ? `${Math.floor(h / 24)} d ${h % 24} h` : `${h} h ${Math.floor((msLeft % 3600000) / 60000)} min`;
  }

  // --- panels ---------------------------------------------------------------------------------------
  function render(o) {
    lastOverview = o;
    $('ispb').textContent = `ISPB ${o.ispb}`;
    $('updated').textContent = `updated ${o.at.slice(11, 19)} UTC`;

    const t = o.traffic;
    if (!t.error) {
      $('stat-out-per-s').textContent = rate(t.outboundPerS);
      $('stat-in-per-s').textContent = rate(t.inboundPerS);
      $('stat-total').textContent = String(t.total);
      FluxChart.line($('chart-traffic'), {
        series: [{ label: 'out', color: '#2f6fdf', values: t.outbound }, { label: 'in', color: '#2e8b57', values: t.inbound }],
        xLabel: (i) => new Date((t.fromS + i) * 1000).toISOString().slice(11, 19),
      });
    }
    const l = o.latency;
    if (!l.error) {
      $('stat-p50').textContent = ms(l.p50Ms);
      $('stat-p95').textContent = ms(l.p95Ms);
      $('stat-p99').textContent = ms(l.p99Ms);
    }
    FluxChart.bars($('chart-rejections'), { items: o.rejections.error ? [] : o.rejections.map((r) => ({ label: r.reason, value: r.count })), empty: o.rejections.error || 'no rejections' });

    const q = o.liquidity;
    $('liq-error').textContent = q.error || '';
    if (!q.error) {
      $('liq-balance').textContent = q.balance;
      $('liq-forecast').textContent = q.forecast === null ? '–' : q.forecast;
      $('liq-warning').textContent = q.warning;
      $('liq-critical').textContent = q.critical;
      $('liq-level').replaceWith(Object.assign(pill(q.level, q.level === 'OK' ? 'ok' : q.level === 'WARNING' ? 'warn' : 'bad'), { id: 'liq-level' }));
      FluxChart.line($('chart-liquidity'), {
        series: [{ label: 'balance', color: '#2f6fdf', values: q.samples.map((s) => Number(s.balance)) }],
        thresholds: [{ label: 'warning', color: '#d08b00', value: Number(q.warning) }, { label: 'critical', color: '#c9302c', value: Number(q.critical) }],
        xLabel: (i) => (q.samples[i] ? q.samples[i].at.slice(11, 19) : ''),
      });
    }

    const s = o.settlement;
    fill('table-windows', s.error ? s : s.windows, (w) => [w.id, pill(w.state, w.state === 'SETTLED' ? 'ok' : w.state === 'RECONCILIATION_FAILED' ? 'bad' : ''), w.payments, w.gross], 'no windows yet');
    $('positions-window').textContent = !s.error && s.positions ? `${s.positions.window} · Σ net ${s.positions.netSum}` : '';
    fill('table-positions', s.error ? s : s.positions ? s.positions.rows : [], (p) => [p.ispb, p.grossDebit, p.grossCredit, p.net], 'no closed window yet');

    fill('table-claims', o.claims, (c) => [c.key, c.type, c.role, c.status, c.claimer, shortTime(c.status === 'CONFIRMED' ? c.completionDeadline : c.resolutionDeadline), cell(left(c.msLeft), c.msLeft < 86400000 ? 'err' : ''), claimActions(c)], 'no open claims');
    fill('table-reports', o.med.error ? o.med : o.med.reports, (r) => [r.endToEndId, r.type, r.status, shortTime(r.createdAt), button('close…', () => closeReport(r), 'close-report')], 'nothing waiting');
    fill('table-refunds', o.med.error ? o.med : o.med.refunds, (r) => [r.endToEndId, r.reason, r.amount, shortTime(r.answerDueAt)], 'nothing waiting');
    fill('table-webhooks', o.webhooks, (w) => [w.eventId, w.eventType, w.url, w.attempts, button('redeliver…', () => redeliver(w), 'redeliver')], 'no failed deliveries');
    fill('table-recon', o.reconciliation, (r) => [r.day, r.matched, cell(r.unexplained, r.unexplained > 0 ? 'err' : ''), JSON.stringify(r.mismatches).slice(0, 200)], 'no runs yet');
    fill('table-health', o.health, (h) => [h.service, pill(h.ready ? 'ready' : 'down', h.ready ? 'ok' : 'bad'), h.error || JSON.stringify(h.checks), shortTime(h.startedAt)]);
    fill('table-nats', o.nats.error ? o.nats : o.nats.consumers, (c) => [c.stream, c.consumer, cell(c.pending, c.pending > 1000 ? 'err' : ''), c.ackPending, c.redelivered], 'no durable consumers');
    fill('table-partitions', o.partitions, (p) => [p.table, p.months.map((m) => `${m.month}${m.exists ? '' : ' (missing)'}`).join(', '), p.defaultRows, pill(p.covered ? 'covered' : 'gap', p.covered ? 'ok' : 'bad')]);
  }

  async function poll() {
    clearTimeout(pollTimer);
    try {
      render(await api('GET', '/ops/api/overview'));
    } catch (e) {
      if (session.access) toast(`refresh failed: ${e.message}`);
    }
    if (session.access) pollTimer = setTimeout(poll, POLL_MS);
  }

  // --- live feed ------------------------------------------------------------------------------------
  function setWs(state, kind) {
    const el = $('ws-status');
    el.textContent = state;
    el.className = `pill ${kind}`;
  }

  function connect() {
    if (!session.access) return;
    const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`);
    socket = ws;
    setWs('connecting', 'warn');
    ws.onopen = () => ws.send(JSON.stringify({ type: 'auth', token: session.access, ...(lastEventId ? { lastEventId } : {}) }));
    ws.onmessage = (m) => {
      let msg;
      try { msg = JSON.parse(m.data); } catch { return; }
      if (msg.type === 'ready') {
        reconnectMs = RECONNECT_MS_MIN;
        lastEventId = msg.id;
        setWs('live', 'ok');
      } else if (msg.type === 'gap') {
        addEvent(`gap: events lost to retention in ${msg.streams.join(', ')}`);
      } else if (msg.type === 'event') {
        lastEventId = msg.id;
        liveEvents += 1;
        $('stat-live-events').textContent = String(liveEvents);
        $('ws-cursor').textContent = msg.id;
        const d = msg.data || {};
        const p = d.payment || {};
        addEvent(`${msg.subject.split('.').slice(-3).join('.')} ${p.endToEndId || d.transferId || d.level || ''} ${p.amount || d.amount || d.balance || ''}`);
        if (msg.stream !== 'payments') poll(); // a claim, key or liquidity change: refresh the tables now
      }
    };
    ws.onclose = () => {
      if (socket !== ws) return;
      setWs('reconnecting', 'bad');
      setTimeout(async () => {
        if (socket !== ws || !session.access) return;
        await refreshSession();
        connect();
      }, reconnectMs);
      reconnectMs = Math.min(RECONNECT_MS_MAX, reconnectMs * 2);
    };
  }

  function addEvent(text) {
    const li = document.createElement('li');
    li.textContent = `${new Date().toISOString().slice(11, 19)} ${text}`;
    const list = $('events');
    list.prepend(li);
    while (list.children.length > EVENTS_SHOWN_MAX) list.lastChild.remove();
  }

  // --- actions (each confirmed first) ---------------------------------------------------------------
  /** fields: [{name, label, type: 'select'|'text'|'textarea', options?, value?}] → resolves to the values, or undefined on cancel. */
  function confirmAction(title, text, fields, run) {
    const overlay = $('overlay');
    $('dialog-title').textContent = title;
    $('dialog-text').textContent = text;
    $('dialog-error').textContent = '';
    const box = $('dialog-fields');
    box.replaceChildren();
    for (const f of fields) {
      const label = document.createElement('label');
      label.textContent = f.label;
      label.htmlFor = `field-${f.name}`;
      let input;
      if (f.type === 'select') {
        input = document.createElement('select');
        for (const o of f.options) input.append(new Option(o, o));
      } else {
        input = document.createElement(f.type === 'textarea' ? 'textarea' : 'input');
        if (f.pattern) input.pattern = f.pattern;
        input.required = true;
      }
      input.id = `field-${f.name}`;
      input.name = f.name;
      if (f.value !== undefined) input.value = f.value;
      box.append(label, input);
    }
    overlay.hidden = false;
    const form = $('dialog');
    const close = () => { overlay.hidden = true; form.onsubmit = null; };
    $('dialog-cancel').onclick = close;
    form.onsubmit = async (e) => {
      e.preventDefault();
      const values = Object.fromEntries(fields.map((f) => [f.name, $(`field-${f.name}`).value]));
      $('dialog-confirm').disabled = true;
      try {
        const result = await run(values);
        close();
        toast(result);
        poll();
      } catch (err) {
        $('dialog-error').textContent = err.message;
      } finally {
        $('dialog-confirm').disabled = false;
      }
    };
  }

  function claimActions(c) {
    const span = document.createElement('span');
    if (c.role === 'DONOR' && c.status === 'WAITING_RESOLUTION') {
      span.append(
        button('give up key…', () => confirmAction('Confirm the claim', `The key ${c.key} leaves our customer's account for ${c.claimer}. This cannot be undone.`,
          [{ name: 'reason', label: 'reason', type: 'select', options: ['USER_REQUESTED', 'ACCOUNT_CLOSURE', 'DEFAULT_OPERATION'] }],
          async (v) => { await api('POST', `/dict/claims/${c.id}/confirm`, { reason: v.reason }); return `claim ${c.id} confirmed`; }), 'confirm-claim'),
        ' ',
        button('keep key…', () => confirmAction('Cancel the claim', `Our customer keeps ${c.key}.`,
          [{ name: 'reason', label: 'reason', type: 'select', options: ['USER_REQUESTED', 'FRAUD', 'ACCOUNT_CLOSURE', 'DEFAULT_OPERATION'] }],
          async (v) => { await api('POST', `/dict/claims/${c.id}/cancel`, { reason: v.reason }); return `claim ${c.id} cancelled`; }), 'cancel-claim'),
      );
    } else if (c.role === 'CLAIMER' && c.status === 'CONFIRMED') {
      span.append(button('complete…', () => confirmAction('Complete the claim', `Register ${c.key} on our customer's account now.`, [],
        async () => { await api('POST', `/dict/claims/${c.id}/complete`); return `claim ${c.id} completed`; }), 'complete-claim'));
    }
    return span;
  }

  function closeReport(r) {
    confirmAction('Close the infraction report', `Report on payment ${r.endToEndId} (${r.type}). The analysis goes to DICT.`,
      [{ name: 'result', label: 'analysis', type: 'select', options: ['AGREED', 'DISAGREED'] }, { name: 'details', label: 'details', type: 'textarea' }],
      async (v) => { await api('POST', `/dict/infraction-reports/${r.id}/close`, { result: v.result, details: v.details }); return `report ${r.id} closed`; });
  }

  function redeliver(w) {
    confirmAction('Redeliver the webhook', `Event ${w.eventId} goes to ${w.url} again.`, [],
      async () => { await api('POST', `/spi/webhooks/${w.subscriptionId}/deliveries/${encodeURIComponent(w.eventId)}/redeliver`); return `event ${w.eventId} queued again`; });
  }

  function topUp() {
    const suggested = lastOverview && !lastOverview.liquidity.error ? lastOverview.liquidity.topUp : '';
    const transferId = `OPS-${Date.now().toString(36).toUpperCase()}-${Math.random().toString(36).slice(2, 6).toUpperCase()}`;
    confirmAction('STR top-up', `Move money from our reserve account to our PI account at BACEN (transfer ${transferId}).`,
      [{ name: 'amount', label: 'amount (R$, e.g. 1000.00)', type: 'text', pattern: '[0-9]{1,15}\\.[0-9]{2}', value: suggested }],
      async (v) => {
        const r = await api('POST', '/settlement/str/transfers', { transferId, direction: 'TO_PI', amount: v.amount });
        return `transfer ${r.transferId}: PI balance ${r.piBalance}`;
      });
  }

  function windowStep() {
    confirmAction('Run the settlement window step', 'Opens the current hour\'s window and closes and nets every window whose end (plus grace) has passed.', [],
      async () => {
        const r = await api('POST', '/ops/api/windows/step');
        return r.moves.length === 0 ? 'no window was due' : r.moves.map((m) => `${m.id} → ${m.to}`).join(', ');
      });
  }

  let toastTimer;
  function toast(text) {
    const el = $('toast');
    el.textContent = text;
    el.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { el.hidden = true; }, 4000);
  }

  // --- start ----------------------------------------------------------------------------------------
  document.addEventListener('DOMContentLoaded', () => {
    $('login').addEventListener('submit', async (e) => {
      e.preventDefault();
      $('login-error').textContent = '';
      try {
        session.save(await token({ grant_type: 'password', username: $('username').value, password: $('password').value, scope: 'admin' }));
        showDashboard();
      } catch (err) {
        $('login-error').textContent = err.message;
      }
    });
    $('logout').addEventListener('click', async () => {
      await fetch('/auth/logout', { method: 'POST', headers: { authorization: `Bearer ${session.access}` } }).catch(() => undefined);
      signOut('signed out');
    });
    $('action-topup').addEventListener('click', topUp);
    $('action-window-step').addEventListener('click', windowStep);
    for (const input of document.querySelectorAll('input.filter')) input.addEventListener('input', () => applyFilter(input.dataset.table));
    if (session.access) showDashboard();
    else signOut();
  });
})();
