// staff.js -- insurer, checkup institution and operator screens (desktop
// first, still usable on a tablet).
import { get, post, upload as uploadFile } from './api.js';
import { t, has } from './i18n.js';
import { h, mount, toast, fmtNum, fmtDate, fmtDateTime, fyLabel, card, cell, errorBox, errorText, chart, COLORS } from './ui.js';
import { go } from './app.js';

const pct = (v) => (v === null || v === undefined ? '—' : `${fmtNum(v * 100, 1)}%`);
const itemLabel = (k) => (has(`items.${k}`) ? t(`items.${k}`) : k);

// ---- insurer dashboard ----

const HABITS = ['med_bp', 'med_glucose', 'med_lipid', 'smoker'];

export async function dashboard() {
  const d = await get('/api/insurer/dashboard');
  const years = d.years;
  const last = years[years.length - 1];
  const prev = years[years.length - 2];
  const kpi = (id, label, value, sub) => h('div', { class: 'kpi', 'data-kpi': id },
    h('p', { class: 'kpi-label', text: label }), h('p', { class: 'kpi-value', text: value }), sub ? h('p', { class: 'kpi-sub', text: sub }) : null);
  const share = (y, k) => (y && y.metabo[k] !== null && y.examinees ? y.metabo[k] / y.examinees : null);
  const delta = (a, b) => (a === null || b === null || a === undefined || b === undefined ? '' : t('dash.vsPrev', { d: `${a - b >= 0 ? '+' : ''}${fmtNum((a - b) * 100, 1)}` }));
  const canv = (id, label) => h('div', { class: 'chart-box' }, h('canvas', { id, role: 'img', 'aria-label': label }));
  const labels = years.map((y) => fyLabel(y.fiscal_year));
  const stacked = (field, keys, colors) => keys.map((k, i) => ({ label: t(`${field}.${k}.name`), data: years.map((y) => y[field][k]), backgroundColor: colors[i] }));
  const refKeys = last ? Object.keys(last.referral_items).sort((a, b) => (last.referral_items[b] ?? 0) - (last.referral_items[a] ?? 0)) : [];
  // each count with its share of the year's examinees: a count alone does
  // not compare across years of different size
  const rateOf = (v, y) => (v === null || v === undefined || !y.examinees ? null : v / y.examinees);
  const withRate = (v, y) => (v === null || v === undefined ? cell(v) : t('dash.countRate', { n: cell(v), p: pct(rateOf(v, y)) }));
  const COLS = [['examinees', (y) => y.examinees, false], ['participation', (y) => y.participation, 'rate'],
    ['metabo1', (y) => y.metabo['1'], true], ['metabo2', (y) => y.metabo['2'], true], ['guidance1', (y) => y.guidance['1'], true],
    ['guidance2', (y) => y.guidance['2'], true], ['referrals', (y) => y.referrals, true]];
  const table = h('table', { class: 'simple dash-table', id: 'dash-table' },
    h('caption', { text: t('dash.tableCaption', { n: d.suppress_below }) }),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col', text: t('dash.col.fy') }), COLS.map(([c]) => h('th', { scope: 'col', text: t(`dash.col.${c}`) })))),
    h('tbody', {}, years.map((y) => h('tr', { 'data-fy': y.fiscal_year },
      h('th', { scope: 'row', text: fyLabel(y.fiscal_year) }),
      COLS.map(([c, f, kind]) => h('td', { class: 'num', 'data-col': c, text: kind === 'rate' ? pct(f(y)) : kind ? withRate(f(y), y) : cell(f(y)) }))))));
  // the same figures as CSV (suppressed cells stay empty, never the value)
  const csv = () => {
    const q = (v) => (/[",\n]/.test(String(v)) ? `"${String(v).replace(/"/g, '""')}"` : String(v));
    const head = [t('dash.col.fy'), ...COLS.flatMap(([c, , kind]) => (kind === true ? [t(`dash.col.${c}`), t('dash.csvRate', { c: t(`dash.col.${c}`) })] : [t(`dash.col.${c}`)]))];
    const num = (v) => (v === null || v === undefined ? '' : v);
    const rows = years.map((y) => [y.fiscal_year, ...COLS.flatMap(([, f, kind]) => (kind === true ? [num(f(y)), num(rateOf(f(y), y))] : [num(f(y))]))]);
    return `\ufeff${[head, ...rows].map((r) => r.map(q).join(',')).join('\r\n')}\r\n`;
  };
  const dl = h('button', { class: 'btn btn-secondary', type: 'button', id: 'dash-csv', text: t('dash.csv') });
  dl.addEventListener('click', () => {
    const a = h('a', { href: URL.createObjectURL(new Blob([csv()], { type: 'text/csv;charset=utf-8' })), download: `kenbank-dashboard-${d.scope}.csv` });
    document.body.append(a);
    a.click();
    a.remove();
  });
  mount(h('div', { class: 'page-head' }, h('h1', { text: t('dash.title') }), h('p', { class: 'meta', id: 'dash-scope', text: t('dash.scope', { s: d.scope === 'all' ? t('dash.allInsurers') : d.scope_name ? `${d.scope_name}（${d.scope}）` : d.scope, n: fmtNum(d.population, 0) }) })),
    last ? h('div', { class: 'kpis' },
      kpi('examinees', t('dash.kpi.examinees', { fy: fyLabel(last.fiscal_year) }), cell(last.examinees), prev ? t('dash.prevYear', { v: cell(prev.examinees) }) : ''),
      kpi('participation', t('dash.kpi.participation'), pct(last.participation), prev ? delta(last.participation, prev.participation) : ''),
      kpi('metabo', t('dash.kpi.metabo'), pct(share(last, '1')), prev ? delta(share(last, '1'), share(prev, '1')) : ''),
      kpi('referrals', t('dash.kpi.referrals'), cell(last.referrals), prev ? t('dash.prevYear', { v: cell(prev.referrals) }) : '')) : h('p', { text: t('dash.none') }),
    h('div', { class: 'grid2' },
      card(t('dash.participation'), canv('c-part', t('dash.participation'))),
      card(t('dash.metabo'), canv('c-metabo', t('dash.metabo'))),
      card(t('dash.guidance'), canv('c-guide', t('dash.guidance'))),
      card(t('dash.referralItems', { fy: last ? fyLabel(last.fiscal_year) : '' }), canv('c-ref', t('dash.referralItems', { fy: '' })))),
    last ? card(t('dash.sexAge', { fy: fyLabel(last.fiscal_year) }), h('div', { class: 'table-wrap', tabindex: 0, role: 'region', 'aria-label': t('dash.sexAge', { fy: '' }) },
      h('table', { class: 'simple dash-table', id: 'dash-sexage' },
        h('thead', {}, h('tr', {}, ['sex', 'band', 'examinees', 'metabo', 'guidance', 'referrals'].map((c) => h('th', { scope: 'col', text: t(`dash.sa.${c}`) })))),
        h('tbody', {}, (d.sex_age || []).filter((x) => x.fiscal_year === last.fiscal_year).map((x) => h('tr', { 'data-sa': `${x.sex}-${x.band}` },
          h('th', { scope: 'row', text: t(`op.sexv.${x.sex}`) }), h('td', { text: t('dash.sa.bandOf', { a: x.band, b: x.band + 4 }) }),
          h('td', { class: 'num', 'data-col': 'examinees', text: cell(x.examinees) }),
          ['metabo', 'guidance', 'referrals'].map((k) => h('td', { class: 'num', 'data-col': k, text: x.examinees ? withRate(x[k], x) : cell(x[k]) })))))))) : null,
    last ? card(t('dash.habits'), h('div', { class: 'table-wrap', tabindex: 0, role: 'region', 'aria-label': t('dash.habits') },
      h('table', { class: 'simple dash-table', id: 'dash-habits' },
        h('thead', {}, h('tr', {}, h('th', { scope: 'col', text: t('dash.col.fy') }), HABITS.map((k) => h('th', { scope: 'col', text: t(`dash.hb.${k}`) })))),
        h('tbody', {}, years.map((y) => h('tr', { 'data-fy': y.fiscal_year }, h('th', { scope: 'row', text: fyLabel(y.fiscal_year) }),
          HABITS.map((k) => h('td', { class: 'num', 'data-col': k, text: withRate((y.habits || {})[k], y) }))))))),
      h('p', { class: 'small', text: t('dash.habitsNote') })) : null,
    card(t('dash.numbers'), h('p', { class: 'hint scroll-hint', text: t('dash.scrollHint') }), h('div', { class: 'table-wrap', tabindex: 0, role: 'region', 'aria-label': t('dash.numbers') }, table),
      h('div', { class: 'actions' }, dl), h('p', { class: 'small', text: t('dash.suppressNote', { n: d.suppress_below }) })));
  if (!last) return;
  const stackOpts = { plugins: { legend: { position: 'bottom' } }, scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } } };
  chart(document.getElementById('c-part'), { type: 'bar', data: { labels, datasets: [
    { label: t('dash.col.examinees'), data: years.map((y) => y.examinees), backgroundColor: COLORS.primary, yAxisID: 'y' },
    { label: t('dash.col.participation'), data: years.map((y) => (y.participation === null ? null : y.participation * 100)), type: 'line', borderColor: COLORS.amber, backgroundColor: COLORS.amber, yAxisID: 'y1' }] },
  options: { plugins: { legend: { position: 'bottom' } }, scales: { y: { beginAtZero: true }, y1: { position: 'right', min: 0, max: 100, grid: { drawOnChartArea: false }, ticks: { callback: (v) => `${v}%` } } } } });
  chart(document.getElementById('c-metabo'), { type: 'bar', data: { labels, datasets: stacked('metabo', ['1', '2', '3', '4'], [COLORS.red, COLORS.amber, COLORS.teal, COLORS.grey]) }, options: stackOpts });
  chart(document.getElementById('c-guide'), { type: 'bar', data: { labels, datasets: stacked('guidance', ['1', '2', '3', '4'], [COLORS.red, COLORS.amber, COLORS.teal, COLORS.grey]) }, options: stackOpts });
  chart(document.getElementById('c-ref'), { type: 'bar', data: { labels: refKeys.map(itemLabel), datasets: [
    { label: t('dash.col.referrals'), data: refKeys.map((k) => last.referral_items[k]), backgroundColor: COLORS.red }] },
  options: { indexAxis: 'y', plugins: { legend: { display: false } }, scales: { x: { beginAtZero: true } } } });
}

// ---- point programme settings ----

export async function rules() {
  const d = await get('/api/points/rules');
  const row = (r) => {
    const id = (f) => `${r.rule}-${f}`;
    const num = (f, label, attrs) => h('div', { class: 'field' }, h('label', { for: id(f), text: label }), h('input', { id: id(f), name: f, type: 'number', value: r[f], ...attrs }));
    const form = h('form', { class: 'rule-form', 'data-rule': r.rule },
      h('h2', { text: t(`points.kind.${r.rule}`) === `points.kind.${r.rule}` ? r.rule : t(`points.kind.${r.rule}`) }),
      h('p', { class: 'small', text: t(`rules.kind.${r.kind}`, { item: itemLabel(r.item || '') }) }),
      h('div', { class: 'rule-fields' },
        num('points', t('rules.points'), { min: 0, max: 100000, step: 1 }),
        r.kind !== 'checkup' ? num('threshold', t(`rules.threshold.${r.kind}`), { min: 0, step: 'any' }) : null,
        r.kind === 'steps' ? num('cap', t('rules.cap'), { min: 0, step: 1 }) : null,
        h('div', { class: 'field check' }, h('input', { id: id('enabled'), name: 'enabled', type: 'checkbox', checked: r.enabled }), h('label', { for: id('enabled'), text: t('rules.enabled') }))),
      h('button', { class: 'btn', type: 'submit', text: t('rules.save') }));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const body = { rule: r.rule, kind: r.kind, item: r.item, points: Number(form.points.value), enabled: form.enabled.checked,
        threshold: form.threshold ? Number(form.threshold.value) : 0, cap: form.cap ? Number(form.cap.value) : 0 };
      try { await post('/api/points/rules', body); toast(t('rules.saved')); } catch (err) { toast(errorText(err)); }
    });
    return h('section', { class: 'card' }, form);
  };
  mount(h('h1', { text: t('rules.title') }), h('p', { class: 'lead', text: t('rules.lead') }), h('div', { class: 'grid2' }, d.rules.map(row)));
}

// ---- checkup institution: uploads ----

// A quarantine problem in the reader's words: the field by its item name
// (item table) or its label, the reason by its stable code.
function problemText(p) {
  const field = p.item || (has(`upload.field.${p.field}`) ? t(`upload.field.${p.field}`) : t('upload.field.record'));
  const why = has(`upload.reason.${p.code}`) ? t(`upload.reason.${p.code}`) : t('upload.reason.other');
  return { field, why };
}

// Every problem of a record is listed (one line each); open entries can be
// sent again corrected, checked again, or discarded after a confirmation
// (kept on the server as the audit trail, never deleted).
function quarantineTable(rows, { actions = false, onChange } = {}) {
  if (!rows.length) return h('p', { text: t('upload.noQuarantine') });
  const act = (q, status) => {
    const file = h('input', { type: 'file', hidden: true, accept: '.csv,.xml', 'aria-label': t('upload.fixFile', { r: q.record }) });
    const resend = h('button', { class: 'btn btn-secondary small', type: 'button', 'data-act': 'resend', text: t('upload.resend') });
    const recheck = h('button', { class: 'btn btn-secondary small', type: 'button', 'data-act': 'recheck', text: t('upload.recheck') });
    const discard = h('button', { class: 'btn btn-secondary small', type: 'button', 'data-act': 'discard', text: t('upload.discard') });
    const retry = async (body) => {
      try {
        await post(`/api/quarantine/${q.id}/retry`, body);
        toast(t('upload.retried'));
      } catch (err) {
        if (err.status !== 422) { status.replaceChildren(errorBox(err)); return; }
        toast(t('upload.stillBad'));
      }
      await onChange();
    };
    resend.addEventListener('click', () => file.click());
    file.addEventListener('change', async () => { if (file.files[0]) await retry(file.files[0]); });
    recheck.addEventListener('click', () => retry(undefined));
    discard.addEventListener('click', () => {
      const yes = h('button', { class: 'btn small', type: 'button', 'data-act': 'discard-yes', text: t('upload.discardYes') });
      const no = h('button', { class: 'btn btn-secondary small', type: 'button', text: t('upload.discardNo') });
      const ask = h('div', { class: 'confirm', role: 'alertdialog', 'aria-label': t('upload.discardAsk', { r: q.record }) },
        h('p', { text: t('upload.discardAsk', { r: q.record }) }), yes, no);
      no.addEventListener('click', () => ask.remove());
      yes.addEventListener('click', async () => {
        try { await post(`/api/quarantine/${q.id}/discard`, {}); toast(t('upload.discarded')); await onChange(); } catch (err) { status.replaceChildren(errorBox(err)); }
      });
      status.replaceChildren(ask);
    });
    return h('div', { class: 'actions' }, resend, file, recheck, discard);
  };
  return h('div', { class: 'table-wrap' }, h('table', { class: 'simple', id: actions ? 'quarantine' : 'quarantine-file' },
    h('thead', {}, h('tr', {}, ['file', 'record', 'problems', 'when', ...(actions ? ['actions'] : [])].map((c) => h('th', { scope: 'col', text: t(`upload.col.${c}`) })))),
    h('tbody', {}, rows.map((q) => {
      const status = h('div', { 'aria-live': 'polite' });
      return h('tr', { 'data-q': q.id }, h('td', { text: q.file }), h('td', { text: q.record }),
        h('td', {}, h('ul', { class: 'problems' }, (q.problems || []).map((p) => {
          const x = problemText(p);
          return h('li', { 'data-code': p.code }, h('strong', { text: x.field }), h('span', { text: `：${x.why}` }));
        }))),
        h('td', { text: fmtDateTime(q.created_at) }),
        actions ? h('td', {}, act(q, status), status) : null);
    }))));
}

function historyTable(uploads) {
  return uploads.length ? h('div', { class: 'table-wrap' }, h('table', { class: 'simple', id: 'upload-history' },
    h('thead', {}, h('tr', {}, ['when', 'name', 'by', 'status', 'accepted', 'quarantined'].map((c) => h('th', { scope: 'col', text: t(`upload.col.${c}`) })))),
    h('tbody', {}, uploads.map((u) => h('tr', {}, h('td', { text: fmtDateTime(u.started_at) }), h('td', { text: u.filename }), h('td', { text: u.uploaded_by }),
      h('td', {}, h('span', { class: `badge ${u.status === 'ok' || u.status === 'duplicate' ? 'badge-ok' : u.status === 'partial' ? 'badge-warn' : 'badge-bad'}`,
        text: has(`upload.state.${u.status}`) ? t(`upload.state.${u.status}`) : u.status })),
      h('td', { class: 'num', text: fmtNum(u.accepted, 0) }), h('td', { class: 'num', text: fmtNum(u.quarantined, 0) })))))) : h('p', { text: t('upload.noHistory') });
}

export async function upload() {
  const file = h('input', { id: 'file', type: 'file', accept: '.zip,.xml,.csv', required: true });
  const bar = h('progress', { id: 'progress', max: 100, value: 0, 'aria-label': t('upload.progress') });
  const status = h('p', { id: 'upload-status', 'aria-live': 'polite' });
  const result = h('div', {});
  const history = h('div', { id: 'history' });
  const standing = h('div', { id: 'standing' });
  // history and the standing quarantine follow every upload and decision
  const refresh = async () => {
    const d = await get('/api/uploads');
    history.replaceChildren(historyTable(d.uploads));
    standing.replaceChildren(quarantineTable(d.quarantine, { actions: true, onChange: refresh }));
  };
  const form = h('form', { class: 'stack' },
    h('div', { class: 'field' }, h('label', { for: 'file', text: t('upload.file') }), file, h('p', { class: 'hint', text: t('upload.hint') })),
    h('button', { class: 'btn', type: 'submit', text: t('upload.send') }), bar, status);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const f = file.files[0];
    if (!f) { status.textContent = t('upload.choose'); return; }
    bar.value = 0;
    status.textContent = t('upload.sending');
    result.replaceChildren();
    try {
      const r = await uploadFile(`/api/uploads?filename=${encodeURIComponent(f.name)}`, f, (p) => {
        bar.value = Math.round(p * 100);
        if (p >= 1) status.textContent = t('upload.importing');
      });
      bar.value = 100;
      status.textContent = t(`upload.status.${r.status}`, { a: r.accepted, q: r.quarantined, d: r.duplicates });
      const n = r.entries || {};
      const parts = [];
      if (r.status === 'failed') {
        parts.push(h('p', { class: 'alert alert-error', id: 'upload-reason', role: 'alert',
          text: has(`upload.reason.${r.error}`) ? t(`upload.reason.${r.error}`) : errorText({ code: r.error }) }));
      }
      // every archive entry accounted for, not only the exams
      if (Object.keys(n).length) parts.push(h('p', { id: 'upload-entries', text: t('upload.entries', { e: n.exam || 0, c: n.claim || 0, g: n.guidance || 0, o: (n.other || 0) + (n.schema || 0) }) }));
      if (r.finding) parts.push(h('p', { class: 'error', text: t('upload.noExam') }));
      if (r.quarantine && r.quarantine.length) parts.push(h('h3', { text: t('upload.thisFile') }), quarantineTable(r.quarantine));
      result.replaceChildren(...parts);
    } catch (err) { status.textContent = errorText(err); }
    await refresh();
  });
  mount(h('h1', { text: t('upload.title') }), h('p', { class: 'lead', text: t('upload.lead') }),
    card(t('upload.new'), form, result),
    card(t('upload.history'), history),
    card(t('upload.quarantine'), h('p', { class: 'small', text: t('upload.quarantineLead') }), standing));
  await refresh();
}

// ---- operator ----

export async function operator() {
  const isAdmin = (await get('/api/me')).role === 'admin';
  const users = isAdmin ? await get('/api/users') : null;
  const audit = await get('/api/audit?limit=30');
  const out = h('div', { id: 'verify-out', 'aria-live': 'polite' });
  const verify = h('button', { class: 'btn', type: 'button', id: 'verify', text: t('op.verify') });
  verify.addEventListener('click', async () => {
    out.replaceChildren(h('p', { text: t('app.loading') }));
    try {
      const v = await get('/api/audit/verify');
      out.replaceChildren(h('p', { class: `alert ${v.ok ? 'alert-ok' : 'alert-error'}`, role: 'status',
        text: v.ok ? t('op.intact', { n: fmtNum(v.entries, 0) }) : t('op.broken', { n: v.problems }) }),
      // replaceChildren would print a null argument as the text "null"
      ...(v.report ? [h('pre', { class: 'code', text: v.report })] : []));
    } catch (err) { out.replaceChildren(errorBox(err)); }
  });
  mount(h('h1', { text: t('op.title') }),
    card(t('op.auditTitle'), h('p', { text: t('op.auditText') }), verify, out),
    users ? usersCard(users.users) : null,
    isAdmin ? enrolCard() : null,
    card(t('op.recent'), h('div', { class: 'table-wrap' }, h('table', { class: 'simple' },
      h('thead', {}, h('tr', {}, ['seq', 'when', 'who', 'action', 'result'].map((c) => h('th', { scope: 'col', text: t(`op.col.${c}`) })))),
      h('tbody', {}, audit.entries.map((a) => h('tr', {}, h('td', { class: 'num', text: a.seq }), h('td', { text: fmtDateTime(a.at) }),
        h('td', { text: a.actor }), h('td', { text: has(`action.${a.action}`) ? t(`action.${a.action}`) : a.action }),
        h('td', { text: has(`result.${a.result}`) ? t(`result.${a.result}`) : a.result }))))))),
    isAdmin ? await reviewCard() : null);
}

// Accounts: add one, disable or re-enable it, lift a login block, each a
// single audited call; the list reloads after every change.
function usersCard(initial) {
  const body = h('div', { id: 'users-body' });
  const msg = h('div', { 'aria-live': 'polite' });
  const roles = ['institution', 'insurer', 'biobank', 'researcher', 'reviewer', 'provider', 'admin'];
  const reload = async () => { try { render((await get('/api/users')).users); } catch (err) { msg.replaceChildren(errorBox(err)); } };
  const act = (u, what) => async () => {
    try { await post(`/api/users/${encodeURIComponent(u.username)}/${what}`, {}); toast(t(`op.user.done.${what}`, { u: u.username })); await reload(); } catch (err) { msg.replaceChildren(errorBox(err)); }
  };
  const render = (list) => body.replaceChildren(h('div', { class: 'table-wrap' }, h('table', { class: 'simple', id: 'users' },
    h('thead', {}, h('tr', {}, ['username', 'role', 'org', 'status', 'created', 'actions'].map((c) => h('th', { scope: 'col', text: t(`op.col.${c}`) })))),
    h('tbody', {}, list.map((u) => {
      const btn = (what) => h('button', { class: 'btn btn-secondary small', type: 'button', 'data-act': what, onclick: act(u, what), text: t(`op.user.${what}`) });
      const state = [t(`op.user.state.${u.status}`), u.locked ? t('op.user.locked') : null, u.failed_logins ? t('op.user.failures', { n: u.failed_logins }) : null].filter(Boolean).join('・');
      return h('tr', { 'data-user': u.username }, h('td', { text: u.username }), h('td', { text: has(`role.${u.role}`) ? t(`role.${u.role}`) : u.role }),
        h('td', { text: u.org || '—' }), h('td', { text: state }), h('td', { text: fmtDateTime(u.created_at) }),
        h('td', {}, h('div', { class: 'actions' }, u.status === 'active' ? btn('disable') : btn('enable'), u.locked || u.failed_logins ? btn('unlock') : null)));
    })))));
  const field = (id, label, input) => h('div', { class: 'field' }, h('label', { for: id, text: label }), input);
  const form = h('form', { class: 'stack', id: 'user-add' },
    h('h3', { text: t('op.user.add') }),
    field('nu-name', t('op.col.username'), h('input', { id: 'nu-name', name: 'username', required: true, maxlength: 63, autocomplete: 'off' })),
    field('nu-pw', t('op.user.password'), h('input', { id: 'nu-pw', name: 'password', type: 'password', required: true, minlength: 10, autocomplete: 'new-password' })),
    field('nu-role', t('op.col.role'), h('select', { id: 'nu-role', name: 'role' }, roles.map((r) => h('option', { value: r, text: t(`role.${r}`) })))),
    field('nu-org', t('op.user.org'), h('input', { id: 'nu-org', name: 'org', maxlength: 63 })),
    h('button', { class: 'btn', type: 'submit', text: t('op.user.create') }));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      await post('/api/users', { username: form.username.value, password: form.password.value, role: form.role.value, org: form.org.value });
      toast(t('op.user.created', { u: form.username.value }));
      form.reset();
      msg.replaceChildren();
      await reload();
    } catch (err) { msg.replaceChildren(errorBox(err)); }
  });
  render(initial);
  return card(t('op.users'), body, form, msg);
}

// An enrolment code for a person, found by one of their submitted records.
function enrolCard() {
  const out = h('div', { id: 'enrol-out', 'aria-live': 'polite' });
  const form = h('form', { class: 'stack', id: 'enrol-code' },
    h('div', { class: 'field' }, h('label', { for: 'ec-source', text: t('op.enrol.source') }), h('input', { id: 'ec-source', name: 'source', required: true })),
    h('div', { class: 'field' }, h('label', { for: 'ec-record', text: t('op.enrol.record') }), h('input', { id: 'ec-record', name: 'record', required: true })),
    h('button', { class: 'btn', type: 'submit', text: t('op.enrol.issue') }));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      const r = await post('/api/enrolment-codes', { source: form.source.value, record_id: form.record.value });
      out.replaceChildren(h('p', { class: 'alert alert-ok', role: 'status' }, t('op.enrol.done', { days: fmtNum(r.ttl_seconds / 86400, 0) }), ' ',
        h('strong', { id: 'enrol-code-value', class: 'code', text: r.code })));
    } catch (err) { out.replaceChildren(errorBox(err)); }
  });
  return card(t('op.enrol.title'), h('p', { class: 'small', text: t('op.enrol.lead') }), form, out);
}

// The clerical review queue: both records side by side, differences marked,
// accept (one person) or reject (keep apart).  Operators may see identity.
// The API pages the queue (every pair shown is audited under both people's
// pseudonyms), so the card shows one page, the total, and moves between pages.
const REVIEW_PAGE = 20;

async function reviewCard() {
  const fields = ['source', 'record_id', 'exam_date', 'family_name', 'given_name', 'family_kana', 'given_kana', 'sex', 'birth_date',
    'postal_code', 'address', 'insurer_no', 'insured_symbol', 'insured_number', 'branch_no'];
  const body = h('div', { id: 'review' });
  let offset = 0;
  const load = async () => {
    try {
      const q = await get(`/api/review?limit=${REVIEW_PAGE}&offset=${offset}`);
      // the last page emptied by decisions: step back to one that has pairs
      if (!q.pairs.length && q.total > 0 && offset > 0) {
        offset = Math.max(0, Math.floor((q.total - 1) / REVIEW_PAGE) * REVIEW_PAGE);
        return load();
      }
      render(q);
    } catch (err) { body.replaceChildren(errorBox(err)); }
  };
  const pager = (q) => {
    const prev = h('button', { class: 'btn btn-secondary', type: 'button', id: 'review-prev', text: t('op.prevPage', { n: REVIEW_PAGE }) });
    const next = h('button', { class: 'btn btn-secondary', type: 'button', id: 'review-next', text: t('op.nextPage', { n: REVIEW_PAGE }) });
    prev.disabled = offset === 0;
    next.disabled = offset + q.pairs.length >= q.total;
    prev.addEventListener('click', () => { offset = Math.max(0, offset - REVIEW_PAGE); load(); });
    next.addEventListener('click', () => { offset += REVIEW_PAGE; load(); });
    return h('div', { class: 'actions review-pager' },
      h('p', { id: 'review-count', 'aria-live': 'polite',
        text: t('op.reviewCount', { total: fmtNum(q.total, 0), from: fmtNum(offset + 1, 0), to: fmtNum(offset + q.pairs.length, 0) }) }),
      // the share of all records waiting, which is what tells a flood
      h('p', { id: 'review-share',
        text: t('op.reviewShare', { n: fmtNum(q.records_in_review, 0), of: fmtNum(q.records, 0),
          pct: fmtNum(q.records ? 100 * q.records_in_review / q.records : 0, 1) }) }),
      prev, next);
  };
  const pairView = (p) => {
    const [a, b] = p.records;
    const status = h('p', { 'aria-live': 'polite' });
    const act = (accept) => async () => {
      try {
        await post(`/api/review/${p.id}/${accept ? 'accept' : 'reject'}`, {});
        toast(t(accept ? 'op.accepted' : 'op.rejected'));
        if (accept) lastAccepted = p.id;
        await load();
      } catch (err) { status.replaceChildren(errorBox(err)); }
    };
    // merging two people is the decision that hurts when wrong: asked first
    const accept = h('button', { class: 'btn', type: 'button', text: t('op.accept') });
    const reject = h('button', { class: 'btn btn-secondary', type: 'button', text: t('op.reject') });
    accept.addEventListener('click', () => {
      const yes = h('button', { class: 'btn small', type: 'button', text: t('op.acceptYes') });
      const no = h('button', { class: 'btn btn-secondary small', type: 'button', text: t('op.acceptNo') });
      no.addEventListener('click', () => status.replaceChildren());
      yes.addEventListener('click', act(true));
      status.replaceChildren(h('div', { class: 'confirm', role: 'alertdialog', 'aria-label': t('op.acceptAsk') }, h('p', { text: t('op.acceptAsk') }), yes, no));
    });
    reject.addEventListener('click', act(false));
    return h('section', { class: 'review-pair', 'data-review': p.id, 'aria-label': t('op.pair', { id: p.id }) },
      h('h3', { text: t('op.pairTitle', { id: p.id, score: fmtNum(p.score, 1) }) }),
      h('div', { class: 'table-wrap' }, h('table', { class: 'simple' },
        h('thead', {}, h('tr', {}, h('th', { scope: 'col', text: '' }), h('th', { scope: 'col', text: 'A' }), h('th', { scope: 'col', text: 'B' }))),
        h('tbody', {}, fields.map((f) => {
          // sex arrives as the MHLW code (1 male, 2 female); show the word
          // the MHLW XML carries the name in kana only: say so instead of an empty row
          const show = (v) => (v === undefined || v === null || v === '' ? (/_name$/.test(f) ? t('op.noKanji') : f === 'exam_date' ? t('op.noExam') : '—')
            : f === 'sex' ? t(`op.sexv.${v}`) : /_date$/.test(f) ? fmtDate(v) : String(v));
          const va = show(a[f]), vb = show(b[f]);
          return h('tr', { class: va === vb ? '' : 'diff' }, h('th', { scope: 'row', text: t(`op.f.${f}`) }),
            h('td', { text: va }), h('td', { text: vb }));
        })))),
      h('div', { class: 'actions' }, accept, reject), status);
  };
  // the last merge made on this screen can be taken back (the split)
  let lastAccepted = null;
  const undoBar = () => {
    if (!lastAccepted) return null;
    const id = lastAccepted;
    const b = h('button', { class: 'btn btn-secondary small', type: 'button', id: 'review-undo', text: t('op.undo') });
    b.addEventListener('click', async () => {
      try { await post(`/api/review/${id}/undo`, {}); lastAccepted = null; toast(t('op.undone', { id })); await load(); } catch (err) { body.prepend(errorBox(err)); }
    });
    return h('div', { class: 'alert alert-ok', role: 'status', id: 'review-undo-bar' }, h('span', { text: `${t('op.acceptedPair', { id })} ` }), b);
  };
  const render = (q) => body.replaceChildren(...[undoBar(), q.pairs.length
    ? h('div', {}, pager(q), h('div', {}, q.pairs.map(pairView)))
    : h('p', { text: t('op.noReview') })].filter(Boolean));
  await load();
  return card(t('op.review'), h('p', { text: t('op.reviewText') }), body);
}

export { go };

// ---- cancer screening (municipality): indicators and open follow-up cases ----

// The identity of the municipality's own record of this case, on request
// (each look-up is audited by the server).
function contactButton(x) {
  const b = h('button', { type: 'button', class: 'btn small', text: t('scr.case.show') });
  b.onclick = async () => {
    try {
      const q = new URLSearchParams({ pseudonym: x.pseudonym, screening: x.screening, fiscal_year: x.fiscal_year });
      const p = await get(`/api/screening/contact?${q}`);
      b.replaceWith(h('span', { class: 'contact', text: `${p.family_name} ${p.given_name}（${p.family_kana} ${p.given_kana}）${p.postal_code} ${p.address}` }));
    } catch (e) { toast(e.message || String(e)); }
  };
  return b;
}

export async function screening() {
  const [d, c] = await Promise.all([get('/api/screening/indicators'), get('/api/screening/cases?state=open')]);
  const rows = d.rows.filter((r) => r.sex === 'all');
  const rate = (v) => (v === null || v === undefined ? '—' : `${fmtNum(v, 1)}%`);
  const name = (s) => t(`results.screening.${s}`);
  const cols = ['screened', 'referral_rate', 'examination_rate', 'unknown_rate', 'detection_rate', 'ppv', 'open'];
  const table = h('table', { class: 'simple', id: 'scr-table' },
    h('caption', { text: t('scr.tableCaption', { n: d.suppress_below }) }),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col', text: t('scr.col.screening') }), h('th', { scope: 'col', text: t('dash.col.fy') }),
      cols.map((k) => h('th', { scope: 'col', text: t(`scr.col.${k}`) })))),
    h('tbody', {}, rows.map((r) => h('tr', { 'data-row': `${r.screening}-${r.fiscal_year}` },
      h('th', { scope: 'row', text: name(r.screening) }), h('td', { text: fyLabel(r.fiscal_year) }),
      cols.map((k) => h('td', { class: 'num', 'data-col': k, text: /rate|ppv/.test(k) ? rate(r[k]) : cell(r[k], d.suppress_below) }))))));
  const cases = c.cases.length
    ? h('table', { class: 'simple', id: 'scr-cases' },
      h('thead', {}, h('tr', {}, ['pseudonym', 'screening', 'fy', 'screen_date', 'window_end', 'contact'].map((k) => h('th', { scope: 'col', text: t(`scr.case.${k}`) })))),
      h('tbody', {}, c.cases.map((x) => h('tr', { 'data-pseudonym': x.pseudonym },
        h('td', { text: x.pseudonym }), h('td', { text: name(x.screening) }), h('td', { text: fyLabel(x.fiscal_year) }),
        h('td', { text: x.screen_date }), h('td', { text: x.window_end }), h('td', {}, contactButton(x))))))
    : h('p', { text: t('scr.noCases') });
  mount(h('div', { class: 'page-head' }, h('h1', { text: t('scr.title') }), h('p', { class: 'meta', text: t('scr.scope', { s: d.scope }) })),
    card(t('scr.rates'), h('div', { class: 'chart-box' }, h('canvas', { id: 'c-scr', role: 'img', 'aria-label': t('scr.rates') }))),
    card(t('scr.numbers'), h('div', { class: 'table-wrap' }, table), h('p', { class: 'small', text: t('scr.definitions') })),
    card(t('scr.casesTitle'), h('p', { class: 'small', text: t('scr.casesLead') }), h('div', { class: 'table-wrap' }, cases)));
  if (!rows.length) return;
  const series = [['referral_rate', COLORS.amber], ['examination_rate', COLORS.teal], ['unknown_rate', COLORS.grey]];
  chart(document.getElementById('c-scr'), { type: 'bar', data: {
    labels: rows.map((r) => `${name(r.screening)} ${fyLabel(r.fiscal_year)}`),
    datasets: series.map(([k, col]) => ({ label: t(`scr.col.${k}`), data: rows.map((r) => r[k]), backgroundColor: col })) },
  options: { plugins: { legend: { position: 'bottom' } }, scales: { y: { beginAtZero: true, ticks: { callback: (v) => `${v}%` } } } } });
}
