// member.js -- the member's screens (smartphone first).
import { get, post, setCsrf } from './api.js';
import { t, has, lang } from './i18n.js';
import { h, mount, toast, fmtNum, fmtUnit, fmtDate, fmtDateTime, fyLabel, card, errorBox, errorText, chart, COLORS } from './ui.js';
import { session, refreshMe, go, home } from './app.js';

// ---- login and enrolment ----

function field(id, label, attrs = {}, hint) {
  return h('div', { class: 'field' },
    h('label', { for: id, text: label }),
    h('input', { id, name: id, ...attrs, 'aria-describedby': hint ? `${id}-hint` : null }),
    hint ? h('p', { class: 'hint', id: `${id}-hint`, text: hint }) : null);
}

export async function login() {
  const msg = h('div', { 'aria-live': 'assertive' });
  const form = h('form', { class: 'stack', novalidate: true },
    field('username', t('login.username'), { autocomplete: 'username', required: true }),
    field('password', t('login.password'), { type: 'password', autocomplete: 'current-password', required: true }),
    msg,
    h('button', { class: 'btn', type: 'submit', text: t('login.submit') }));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    msg.replaceChildren();
    try {
      const r = await post('/api/login', { username: form.username.value, password: form.password.value });
      setCsrf(r.csrf);
      await refreshMe();
      go(home());
    } catch (err) {
      msg.replaceChildren(h('p', { class: 'alert alert-error', role: 'alert' },
        err.status === 401 ? t('login.wrong') : err.status === 429 ? t('login.locked') : errorText(err)));
    }
  });
  mount(h('div', { class: 'narrow' },
    h('section', { class: 'card hero' }, h('h1', { text: t('login.title') }), h('p', { class: 'lead', text: t('login.lead') }), form),
    h('section', { class: 'card' }, h('h2', { text: t('login.firstTime') }), h('p', { text: t('login.firstTimeText') }),
      h('a', { class: 'btn btn-secondary', href: '#/enrol', text: t('login.toEnrol') }))));
}

export async function enrol() {
  const msg = h('div', { 'aria-live': 'assertive' });
  const form = h('form', { class: 'stack', novalidate: true },
    field('code', t('enrol.code'), { autocomplete: 'one-time-code', required: true, placeholder: 'XXXX-XXXX-XXXX-XXXX',
      inputmode: 'latin', autocapitalize: 'characters' }, t('enrol.codeHint')),
    field('username', t('login.username'), { autocomplete: 'username', required: true }, t('enrol.usernameHint')),
    field('password', t('login.password'), { type: 'password', autocomplete: 'new-password', required: true, minlength: 10 }, t('enrol.passwordHint')),
    field('password2', t('enrol.password2'), { type: 'password', autocomplete: 'new-password', required: true }),
    msg,
    h('button', { class: 'btn', type: 'submit', text: t('enrol.submit') }));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    msg.replaceChildren();
    const f = form;
    if (f.password.value !== f.password2.value) {
      msg.replaceChildren(h('p', { class: 'alert alert-error', role: 'alert', text: t('enrol.mismatch') }));
      return;
    }
    try {
      await post('/api/enrol', { code: f.code.value.trim().toUpperCase(), username: f.username.value, password: f.password.value });
      const r = await post('/api/login', { username: f.username.value, password: f.password.value });
      setCsrf(r.csrf);
      await refreshMe();
      toast(t('enrol.done'));
      go(home());
    } catch (err) {
      msg.replaceChildren(h('p', { class: 'alert alert-error', role: 'alert' }, `${t('enrol.failed')} ${errorText(err)}`));
    }
  });
  mount(h('div', { class: 'narrow' }, h('section', { class: 'card hero' },
    h('h1', { text: t('enrol.title') }), h('p', { class: 'lead', text: t('enrol.lead') }), form,
    h('p', {}, h('a', { href: '#/login', text: t('enrol.toLogin') })),
    h('p', {}, h('a', { href: '#/recover', text: t('recover.link') })))));
}

// An account is recovered, never enrolled twice: the code from a recovery
// sets a new password on the existing account (POST /api/recover).
export async function recover() {
  const msg = h('div', { 'aria-live': 'assertive' });
  const form = h('form', { class: 'stack', novalidate: true },
    field('code', t('recover.code'), { autocomplete: 'one-time-code', required: true, placeholder: 'XXXX-XXXX-XXXX-XXXX',
      inputmode: 'latin', autocapitalize: 'characters' }),
    field('password', t('login.password'), { type: 'password', autocomplete: 'new-password', required: true, minlength: 10 }, t('enrol.passwordHint')),
    field('password2', t('enrol.password2'), { type: 'password', autocomplete: 'new-password', required: true }),
    msg,
    h('button', { class: 'btn', type: 'submit', text: t('recover.submit') }));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    msg.replaceChildren();
    const f = form;
    if (f.password.value !== f.password2.value) {
      msg.replaceChildren(h('p', { class: 'alert alert-error', role: 'alert', text: t('enrol.mismatch') }));
      return;
    }
    try {
      const done = await post('/api/recover', { code: f.code.value.trim().toUpperCase(), password: f.password.value });
      const r = await post('/api/login', { username: done.username, password: f.password.value });
      setCsrf(r.csrf);
      await refreshMe();
      toast(t('recover.done'));
      go(home());
    } catch (err) {
      msg.replaceChildren(h('p', { class: 'alert alert-error', role: 'alert' }, `${t('recover.failed')} ${errorText(err)}`));
    }
  });
  mount(h('div', { class: 'narrow' }, h('section', { class: 'card hero' },
    h('h1', { text: t('recover.title') }), h('p', { class: 'lead', text: t('recover.lead') }), form,
    h('p', {}, h('a', { href: '#/login', text: t('enrol.toLogin') })))));
}

// ---- results ----

let cache = null; // results of this session, reloaded on each visit to results

async function results_data(force) {
  if (!cache || force) cache = await get('/api/me/results');
  return cache;
}

// The MHLW table mixes half- and full-width brackets ("腹囲(実測）"); in
// Japanese text they are all full-width.
function itemName(it) {
  if (it.key && lang() !== 'ja' && has(`items.${it.key}`)) return t(`items.${it.key}`);
  return lang() === 'ja' ? it.name.replace(/\(/g, '（').replace(/\)/g, '）') : it.name;
}

// The normal range reads as the side of the guidance line that is fine;
// with a lower line too (BMI) it reads as both ends.
function rangeText(it) {
  const r = it.range;
  if (!r || r.guidance === null) return '';
  const g = fmtNum(r.guidance, it.decimals);
  if (it.key === 'uprot') return t('results.range.uprot');
  if (r.direction === 'ge' && r.low !== undefined && r.low !== null)
    return t('results.range.between', { lo: fmtNum(r.low, it.decimals), hi: g });
  if (r.direction === 'ge') return t('results.range.below', { v: g });
  if (r.direction === 'lt') return t('results.range.atLeast', { v: g });
  return t('results.range.above', { v: g });
}

// The checkup institution's own range and flag, as on its paper report.
function senderText(it) {
  const s = it.sender;
  if (!s) return null;
  const range = s.low && s.high ? `${s.low}–${s.high}` : s.high ? t('results.sender.upTo', { v: s.high }) : s.low ? t('results.sender.from', { v: s.low }) : '';
  const flag = s.flag && has(`results.sender.flag.${s.flag}`) ? t(`results.sender.flag.${s.flag}`) : '';
  return h('span', { class: 'small sender', text: t('results.sender.label', { r: [range, flag].filter(Boolean).join(' ') }) });
}

const CODED = { '1': '−', '2': '±', '3': '+', '4': '2+', '5': '3+' };

function valueText(it) {
  if (it.missing) return t('results.notDone');
  if (it.value !== undefined) return fmtNum(it.value, it.decimals);
  if (it.answer) return it.answer; // a cancer screening answer, in words
  if (it.coded !== undefined) {
    if (it.type === 'CO') return CODED[it.coded] || it.coded;
    return it.coded;
  }
  return it.text || '—';
}

// A value under the item's lower line (BMI < 18.5) is named for what it is
// (低体重), not by the guidance level it shares.
function badge(level, it) {
  if (level === undefined || level === null) return null;
  const cls = ['ok', 'warn', 'bad'][level] || 'ok';
  const text = it && it.low && has(`level.low.${it.key}`) ? t(`level.low.${it.key}`) : t(`level.${level}`);
  return h('span', { class: `badge badge-${cls}` }, h('span', { 'aria-hidden': 'true', class: 'dot' }), text);
}

function adviceText(it) {
  const key = it.low ? `${it.key}_low` : it.key;
  const set = it.level === 2 ? 'advice' : 'adviceGuidance';
  return has(`${set}.${key}`) ? t(`${set}.${key}`) : t(`${set}.default`);
}

function withUnit(it) {
  return `${valueText(it)}${it.unit && it.value !== undefined ? ` ${fmtUnit(it.unit)}` : ''}`;
}

// The same item in the checkup before x (by code, else by judgement key).
function previousItem(exams, x, it) {
  const before = exams.filter((e) => e.exam_date < x.exam_date).sort((a, b) => b.exam_date.localeCompare(a.exam_date))[0];
  if (!before) return null;
  return before.items.find((p) => p.code === it.code) || (it.key && before.items.find((p) => p.key === it.key)) || null;
}

// One card per flagged level, each item with plain-words advice.
function flaggedCard(items, level) {
  const id = level === 2 ? 'ref-h' : 'guide-h';
  const pre = level === 2 ? 'results.referral' : 'results.guidance';
  return h('section', { class: level === 2 ? 'card card-alert' : 'card card-warn', 'aria-labelledby': id },
    h('h2', { id, text: t(`${pre}Title`) }),
    h('p', { text: t(`${pre}Lead`) }),
    h('ul', { class: 'ref-list' }, items.map((i) => h('li', { 'data-key': i.key || null },
      h('strong', { text: itemName(i) }), ` ${withUnit(i)}`, i.low ? ` ${badge(i.level, i).textContent}` : '',
      h('span', { class: 'advice', text: adviceText(i) })))),
    h('p', { class: 'small', text: t(`${pre}Note`) }));
}

function explain(kind, code) {
  return h('div', { class: `judge judge-${kind}-${code}` },
    h('p', { class: 'judge-label' }, h('span', { class: 'judge-title', text: t(`${kind}.title`) }),
      h('strong', { text: t(`${kind}.${code || 4}.name`) })),
    h('p', { class: 'judge-text', text: t(`${kind}.${code || 4}.text`) }));
}

export async function results(params) {
  const data = await results_data(true);
  if (!data.exams.length) {
    mount(card(t('results.title'), h('p', { text: t('results.none') })));
    return;
  }
  const years = data.exams.map((x) => x.fiscal_year);
  const fy = Number(params[0]) || years[0];
  const x = data.exams.find((e) => e.fiscal_year === fy) || data.exams[0];
  const sel = h('select', { id: 'fy', onchange: (ev) => go(`results/${ev.target.value}`) },
    data.exams.map((e) => h('option', { value: e.fiscal_year, selected: e.id === x.id }, fyLabel(e.fiscal_year))));
  const refItems = x.items.filter((i) => i.level === 2);
  const guideItems = x.items.filter((i) => i.level === 1);
  const referral = refItems.length ? flaggedCard(refItems, 2)
    : h('section', { class: 'card card-ok' }, h('p', { text: t('results.noReferral') }));
  // 精密検査 follow-up of cancer screenings, every year, in plain words
  const fu = data.screening_followup || [];
  const followup = fu.length
    ? h('section', { class: 'card', id: 'followup', 'aria-labelledby': 'fu-h' },
      h('h2', { id: 'fu-h', text: t('results.followupTitle') }),
      h('ul', { class: 'ref-list' }, fu.map((f) => h('li', { 'data-state': f.state },
        h('strong', { text: `${t(`results.screening.${f.screening}`)} ${fyLabel(f.fiscal_year)}` }),
        h('span', { class: 'advice', text: f.explanation })))))
    : null;
  const guidance = guideItems.length ? flaggedCard(guideItems, 1) : null;
  // 医師の判断: what the examining doctor wrote (医師の診断(判定)), in the
  // doctor's own words, above the table where a member looks first
  const DOCTOR = '9N511000000000049';
  const said = x.items.find((i) => i.code === DOCTOR && i.text);
  const doctor = said
    ? h('section', { class: 'card', id: 'doctor', 'aria-labelledby': 'doc-h' },
      h('h2', { id: 'doc-h', text: t('results.doctorTitle') }), h('p', { class: 'doctor-text', text: said.text }))
    : null;
  const groups = new Map();
  for (const i of x.items) {
    const g = i.category || t('results.other');
    if (!groups.has(g)) groups.set(g, []);
    groups.get(g).push(i);
  }
  const table = h('table', { class: 'results', 'aria-describedby': 'res-cap' },
    h('caption', { id: 'res-cap', class: 'sr', text: t('results.tableCaption', { fy: fyLabel(x.fiscal_year) }) }),
    h('thead', {}, h('tr', {}, ['item', 'value', 'previous', 'range', 'judgement'].map((c) => h('th', { scope: 'col', text: t(`results.col.${c}`) })))),
    [...groups].map(([g, items]) => h('tbody', {},
      h('tr', { class: 'group' }, h('th', { colspan: 5, scope: 'colgroup', text: g })),
      items.map((i) => {
        const prev = previousItem(data.exams, x, i);
        return h('tr', { class: i.level === 2 ? 'row-bad' : i.level === 1 ? 'row-warn' : null, 'data-key': i.key || null },
          h('th', { scope: 'row', 'data-label': t('results.col.item') }, itemName(i)),
          h('td', { 'data-label': t('results.col.value'), class: 'num' }, h('span', { class: 'v', text: valueText(i) }), i.unit && i.value !== undefined ? h('span', { class: 'unit', text: ` ${fmtUnit(i.unit)}` }) : null,
            i.explanation ? h('span', { class: 'small explain', text: i.explanation }) : null),
          h('td', { 'data-label': t('results.col.previous'), class: 'num prev' }, prev ? withUnit(prev) : '—'),
          h('td', { 'data-label': t('results.col.range') }, rangeText(i), senderText(i) ? h('br') : null, senderText(i)),
          h('td', { 'data-label': t('results.col.judgement') }, badge(i.level, i)));
      }))));
  mount(
    h('div', { class: 'page-head' }, h('h1', { text: t('results.title') }),
      h('div', { class: 'field inline' }, h('label', { for: 'fy', text: t('results.year') }), sel)),
    h('p', { class: 'meta', text: t('results.meta', { date: fmtDate(x.exam_date), age: x.age ?? '—' }) }),
    // the printable letter of this same exam, made by the server
    h('p', { class: 'pdf-link' }, h('a', { class: 'btn btn-secondary btn-sm', id: 'dl-pdf', href: `/api/me/results.pdf?exam=${encodeURIComponent(x.id)}`,
      download: `kenbank-results-${x.exam_date}.pdf`, text: t('results.pdfButton') }), ' ', h('span', { class: 'small', text: t('results.pdfHint') })),
    h('div', { class: 'grid2' }, card(null, explain('metabo', x.metabo)), card(null, explain('guidance', x.guidance))),
    doctor,
    referral,
    guidance,
    followup,
    h('section', { class: 'card' }, h('h2', { text: t('results.items') }), table,
      h('p', { class: 'small', text: t('results.legend') })));
}

// ---- trends ----

const SENSOR_FOR = { sbp: ['bp', 'value'], dbp: ['bp', 'value2'], weight: ['weight', 'value'] };

// A fixed y range per item, wide enough that an ordinary year-to-year change
// does not look dramatic (124 to 140 mmHg is not a cliff); widened only when
// a value or a line falls outside it.
const Y_RANGE = {
  sbp: [80, 200], dbp: [40, 130], bmi: [14, 40], waist: [50, 130], hba1c: [4, 10], fpg: [60, 200], rpg: [60, 250],
  tg_fasting: [0, 600], tg_random: [0, 600], hdl: [20, 120], ldl: [40, 250], nonhdl: [50, 260],
  ast: [0, 100], alt: [0, 100], ggt: [0, 200], egfr: [0, 130], hb: [6, 20],
};
// Home blood pressure is judged against its own, lower lines (JSH 2019:
// 135/85 mmHg at home, against 140/90 at a clinic).
const HOME_LINE = { sbp: 135, dbp: 85 };
const LEVEL_COLOR = () => [COLORS.green, COLORS.amber, COLORS.red];
const LEVEL_SHAPE = ['circle', 'triangle', 'rectRot'];
const DAY_MS = 86400000;

function dayMs(iso) {
  const [y, m, d] = iso.split('-').map(Number);
  return Date.UTC(y, m - 1, d);
}

function dayIso(ms) {
  return new Date(ms).toISOString().slice(0, 10);
}

// The side of the guidance line that is fine, as a band [from, to].
function normalBand(it, yMin, yMax) {
  const r = it.range;
  if (!r || r.guidance === null || r.guidance === undefined) return null;
  if (r.direction === 'ge') return [r.low ?? yMin, r.guidance];
  if (r.direction === 'lt') return [r.guidance, yMax];
  return null;
}

// Draws the normal band behind the data (Chart.js has no band of its own).
const bandPlugin = {
  id: 'normalBand',
  beforeDatasetsDraw(c, args, opts) {
    if (!opts || opts.from === undefined) return;
    const { ctx, chartArea: a, scales: { y } } = c;
    const top = y.getPixelForValue(Math.min(opts.to, y.max)), bottom = y.getPixelForValue(Math.max(opts.from, y.min));
    ctx.save();
    ctx.fillStyle = 'rgba(60, 141, 90, 0.13)';
    ctx.fillRect(a.left, top, a.right - a.left, bottom - top);
    ctx.restore();
  },
};

export async function trends(params) {
  const [data, sens] = await Promise.all([results_data(false), get('/api/me/sensors')]);
  const exams = [...data.exams].sort((a, b) => a.exam_date.localeCompare(b.exam_date));
  const keys = [];
  for (const x of exams) for (const i of x.items) if (i.value !== undefined && i.key && !keys.includes(i.key)) keys.push(i.key);
  const names = {};
  for (const x of exams) for (const i of x.items) if (i.key && !names[i.key]) names[i.key] = i;
  const key = keys.includes(params[0]) ? params[0] : (keys.includes('hba1c') ? 'hba1c' : keys[0]);
  const sel = h('select', { id: 'item', onchange: (ev) => go(`trends/${ev.target.value}`) },
    keys.map((k) => h('option', { value: k, selected: k === key }, itemName(names[k]))));
  const canvas = h('canvas', { id: 'trend-chart', role: 'img', 'aria-label': t('trends.chartLabel', { item: key ? itemName(names[key]) : '' }) });
  const body = h('div', {});
  mount(h('div', { class: 'page-head' }, h('h1', { text: t('trends.title') }),
    h('div', { class: 'field inline' }, h('label', { for: 'item', text: t('trends.item') }), sel)),
    h('section', { class: 'card' }, h('div', { class: 'chart-box' }, canvas), body));
  if (!key) return;
  const pick = (x) => x.items.filter((i) => i.key === key && i.value !== undefined)[0];
  const points = exams.filter(pick).map((x) => ({ date: x.exam_date, v: pick(x).value, level: pick(x).level ?? 0 }));
  const sf = SENSOR_FOR[key];
  const own = sf ? sens.readings.filter((r) => r.kind === sf[0] && r[sf[1]] !== undefined).map((r) => ({ date: r.date, v: r[sf[1]] }))
    .sort((a, b) => a.date.localeCompare(b.date)) : [];
  const it = names[key];
  // x is time: days as milliseconds on a linear axis, so a gap of two
  // years looks twice as long as one.
  const xs = [...points, ...own].map((p) => dayMs(p.date));
  const x0 = Math.min(...xs) - 30 * DAY_MS, x1 = Math.max(...xs) + 30 * DAY_MS;
  const lines = [it.range?.guidance, it.range?.referral, it.range?.low, own.length ? HOME_LINE[key] : undefined].filter((v) => v !== null && v !== undefined);
  const vals = [...points, ...own].map((p) => p.v);
  const fixed = Y_RANGE[key] || [Math.floor(Math.min(...vals) * 0.8), Math.ceil(Math.max(...vals) * 1.2)];
  const yMin = Math.min(fixed[0], ...vals.map((v) => Math.floor(v * 0.95)), ...lines.map((v) => Math.floor(v * 0.9)));
  const yMax = Math.max(fixed[1], ...vals.map((v) => Math.ceil(v * 1.05)), ...lines.map((v) => Math.ceil(v * 1.1)));
  const flat = (v) => [{ x: x0, y: v }, { x: x1, y: v }];
  const colors = LEVEL_COLOR();
  const ds = [{ label: t('trends.checkup'), data: points.map((p) => ({ x: dayMs(p.date), y: p.v })), borderColor: COLORS.primary, borderWidth: 3,
    pointRadius: 7, pointHoverRadius: 8, pointBackgroundColor: points.map((p) => colors[p.level] || colors[0]),
    pointBorderColor: points.map((p) => colors[p.level] || colors[0]), pointStyle: points.map((p) => LEVEL_SHAPE[p.level] || 'circle'),
    levels: points.map((p) => p.level) }];
  if (own.length) ds.push({ label: t('trends.own'), data: own.map((p) => ({ x: dayMs(p.date), y: p.v })), borderColor: COLORS.teal, backgroundColor: COLORS.teal,
    pointRadius: 3, showLine: true, borderWidth: 2, kind: 'own' });
  if (it.range && it.range.guidance !== null) ds.push({ label: t('trends.guidanceLine'), data: flat(it.range.guidance), borderColor: COLORS.amber, borderDash: [6, 4], pointRadius: 0, borderWidth: 2, kind: 'line' });
  if (it.range && it.range.referral !== null) ds.push({ label: t('trends.referralLine'), data: flat(it.range.referral), borderColor: COLORS.red, borderDash: [2, 4], pointRadius: 0, borderWidth: 2, kind: 'line' });
  if (own.length && HOME_LINE[key]) ds.push({ label: t('trends.homeLine', { v: HOME_LINE[key] }), data: flat(HOME_LINE[key]), borderColor: COLORS.teal, borderDash: [8, 3, 2, 3], pointRadius: 0, borderWidth: 2, kind: 'home' });
  const band = normalBand(it, yMin, yMax);
  chart(canvas, { type: 'line', data: { datasets: ds }, plugins: [bandPlugin],
    options: {
      parsing: true,
      plugins: { legend: { position: 'bottom' }, normalBand: band ? { from: band[0], to: band[1] } : {},
        tooltip: { callbacks: { title: (items) => (items.length ? fmtDate(dayIso(items[0].parsed.x)) : '') } } },
      scales: {
        x: { type: 'linear', min: x0, max: x1, ticks: { maxTicksLimit: 6, callback: (v) => fmtDate(dayIso(v)) } },
        y: { min: yMin, max: yMax, title: { display: !!it.unit, text: fmtUnit(it.unit) } },
      },
    } });
  body.append(h('p', { class: 'small', id: 'trend-key', text: t('trends.key') + (band ? ` ${t('trends.bandKey')}` : '') }));
  if (own.length && HOME_LINE[key]) body.append(h('p', { class: 'small', id: 'home-note', text: t('trends.homeNote', { v: HOME_LINE[key] }) }));
  body.append(h('details', {}, h('summary', { text: t('trends.asTable') }),
    h('table', { class: 'simple' }, h('thead', {}, h('tr', {}, h('th', { scope: 'col', text: t('trends.date') }), h('th', { scope: 'col', text: itemName(it) }), h('th', { scope: 'col', text: t('trends.source') }), h('th', { scope: 'col', text: t('results.col.judgement') }))),
      h('tbody', {}, [...points.map((p) => [p.date, p.v, t('trends.checkup'), t(`level.${p.level}`)]), ...own.map((p) => [p.date, p.v, t('trends.own'), ''])]
        .sort((a, b) => a[0].localeCompare(b[0])).map((r) => h('tr', {}, h('td', { text: fmtDate(r[0]) }), h('td', { class: 'num', text: `${fmtNum(r[1], it.decimals)} ${fmtUnit(it.unit)}` }), h('td', { text: r[2] }), h('td', { text: r[3] })))))));
  if (sf) body.append(h('p', { class: 'small', text: t('trends.ownNote') }));
}

// ---- sensors ("my records") ----

export async function health() {
  const data = await get('/api/me/sensors');
  const today = new Date().toISOString().slice(0, 10);
  const kind = h('select', { id: 'kind', name: 'kind' }, ['steps', 'bp', 'weight'].map((k) => h('option', { value: k, text: t(`sensor.${k}`) })));
  const v1label = h('label', { for: 'value', text: t('sensor.value.steps') });
  // The diastolic input is disabled, not only hidden, for steps and weight:
  // a disabled input is left out of the form's validation, so a value typed
  // before switching kind cannot block saving.
  const v2in = h('input', { id: 'value2', name: 'value2', type: 'number', inputmode: 'numeric', min: 30, max: 160, disabled: true });
  const v2 = h('div', { class: 'field', hidden: true }, h('label', { for: 'value2', text: t('sensor.diastolic') }), v2in);
  const msg = h('div', { 'aria-live': 'polite' });
  kind.addEventListener('change', () => {
    v1label.textContent = t(`sensor.value.${kind.value}`);
    v2.hidden = kind.value !== 'bp';
    v2in.required = kind.value === 'bp';
    v2in.disabled = kind.value !== 'bp';
    msg.replaceChildren(); // an error about the previous kind no longer applies
  });
  const form = h('form', { class: 'stack' },
    h('div', { class: 'field' }, h('label', { for: 'kind', text: t('sensor.kind') }), kind),
    h('div', { class: 'field' }, h('label', { for: 'date', text: t('sensor.date') }), h('input', { id: 'date', name: 'date', type: 'date', value: today, max: today, required: true })),
    h('div', { class: 'field' }, v1label, h('input', { id: 'value', name: 'value', type: 'number', inputmode: 'decimal', step: 'any', required: true })),
    v2, msg, h('button', { class: 'btn', type: 'submit', text: t('sensor.save') }));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    msg.replaceChildren();
    const body = { kind: kind.value, date: form.date.value, value: Number(form.value.value) };
    if (kind.value === 'bp') body.value2 = Number(form.value2.value);
    try {
      const r = await post('/api/me/sensors', body);
      toast(r.points_awarded ? t('sensor.savedPoints', { n: r.points_awarded }) : t('sensor.saved'));
      go('health');
    } catch (err) { msg.replaceChildren(errorBox(err)); }
  });
  const steps = data.readings.filter((r) => r.kind === 'steps').slice(-30);
  const canvas = h('canvas', { id: 'steps-chart', role: 'img', 'aria-label': t('sensor.stepsChart') });
  const tokenOut = h('div', { 'aria-live': 'polite' });
  const mk = h('button', { class: 'btn btn-secondary', type: 'button', text: t('sensor.makeToken') });
  mk.addEventListener('click', async () => {
    const r = await post('/api/me/tokens', { label: 'device' });
    tokenOut.replaceChildren(h('p', { text: t('sensor.tokenShown') }), h('pre', { class: 'code', text: r.token }),
      h('pre', { class: 'code', text: `curl -X POST ${location.origin}/api/me/sensors \\\n  -H 'Authorization: Bearer ${r.token}' \\\n  -H 'Content-Type: application/json' \\\n  -d '{"readings":[{"kind":"steps","date":"${today}","value":8500}]}'` }));
  });
  mount(h('h1', { text: t('sensor.title') }), h('p', { class: 'lead', text: t('sensor.lead') }),
    h('div', { class: 'grid2' },
      card(t('sensor.add'), form),
      card(t('sensor.steps30'), steps.length ? h('div', { class: 'chart-box small-chart' }, canvas) : h('p', { text: t('sensor.noSteps') }))),
    card(t('sensor.recent'), data.readings.length ? h('table', { class: 'simple' },
      h('thead', {}, h('tr', {}, ['date', 'kind', 'value', 'channel'].map((c) => h('th', { scope: 'col', text: t(`sensor.col.${c}`) })))),
      h('tbody', {}, data.readings.slice(-20).reverse().map((r) => h('tr', {},
        h('td', { text: fmtDate(r.date) }), h('td', { text: t(`sensor.${r.kind}`) }),
        h('td', { class: 'num', text: r.kind === 'bp' ? `${fmtNum(r.value, 0)}/${fmtNum(r.value2, 0)} mmHg` : r.kind === 'weight' ? `${fmtNum(r.value, 1)} kg` : t('sensor.stepsN', { n: fmtNum(r.value, 0) }) }),
        h('td', { text: t(`sensor.channel.${r.channel}`) }))))) : h('p', { text: t('sensor.none') })),
    card(t('sensor.device'), h('p', { text: t('sensor.deviceText') }), mk, tokenOut));
  if (steps.length) {
    chart(canvas, { type: 'bar', data: { labels: steps.map((s) => fmtDate(s.date, { year: false })), datasets: [
      { label: t('sensor.steps'), data: steps.map((s) => s.value), backgroundColor: COLORS.teal }] },
    options: { plugins: { legend: { display: false } } } });
  }
}

// ---- points ----

function ruleText(r) {
  return t(`points.rule.${r.kind}`, { points: fmtNum(r.points, 0), threshold: fmtNum(r.threshold, r.kind === 'steps' ? 0 : 1), cap: fmtNum(r.cap, 0),
    item: has(`items.${r.item}`) ? t(`items.${r.item}`) : r.item });
}

// What an award was for: a day (2026-11-03), a fiscal year (fy2024).
function ledgerRef(ref) {
  if (/^fy\d{4}$/.test(ref)) return fyLabel(Number(ref.slice(2)));
  return /^\d{4}-\d{2}-\d{2}$/.test(ref) ? fmtDate(ref) : ref;
}

export async function points() {
  const p = await get('/api/me/points');
  mount(h('h1', { text: t('points.title') }),
    h('section', { class: 'card balance' }, h('p', { class: 'balance-label', text: t('points.balance') }),
      h('p', { class: 'balance-value' }, h('span', { id: 'balance', text: fmtNum(p.balance, 0) }), h('span', { class: 'unit', text: ` ${t('points.pt')}` }))),
    card(t('points.how'), h('ul', { class: 'rules' }, p.rules.map((r) => h('li', { text: ruleText(r) })))),
    card(t('points.ledger'), p.ledger.length ? h('table', { class: 'simple' },
      h('thead', {}, h('tr', {}, ['date', 'what', 'points'].map((c) => h('th', { scope: 'col', text: t(`points.col.${c}`) })))),
      h('tbody', {}, p.ledger.map((l) => h('tr', {}, h('td', { text: fmtDateTime(l.at) }),
        h('td', { text: `${t(`points.kind.${l.rule}`) === `points.kind.${l.rule}` ? l.rule : t(`points.kind.${l.rule}`)}${lang() === 'ja' ? `（${ledgerRef(l.ref)}）` : ` (${ledgerRef(l.ref)})`}` }),
        h('td', { class: 'num', text: `+${fmtNum(l.points, 0)}` }))))) : h('p', { text: t('points.none') })));
}

// ---- 特定保健指導 ----

export async function episodes() {
  const d = await get('/api/me/guidance');
  const sign = (v) => `${v > 0 ? '+' : ''}${fmtNum(v, 1)}`;
  const one = (e) => card(t('episodes.fy', { fy: fyLabel(e.fiscal_year) }), h('dl', { class: 'episode', 'data-fy': e.fiscal_year },
    h('dt', { text: t('episodes.level') }), h('dd', { text: t(`guidance.${e.level}.name`) }),
    h('dt', { text: t('episodes.start') }), h('dd', { text: `${fmtDate(e.start_date)}（${t(`episodes.form.${e.form}`)}）` }),
    e.contacts.length ? [h('dt', { text: t('episodes.contacts') }), h('dd', { text: e.contacts.map((c) => `${fmtDate(c.date)} ${t(`episodes.form.${c.form}`)}`).join('、') })] : null,
    h('dt', { text: t('episodes.provider') }), h('dd', { text: e.provider }),
    h('dt', { text: t('episodes.state') }),
    h('dd', { 'data-status': e.status, text: t(`episodes.status.${e.status}`) }),
    e.eval_date ? [h('dt', { text: t('episodes.eval') }), h('dd', { text: `${fmtDate(e.eval_date)}: ${t('episodes.change', { w: sign(e.weight_change), c: sign(e.waist_change) })}` }),
      e.outcome_2cm2kg === null ? null : h('dd', { class: 'outcome', text: t(`episodes.outcome.${e.outcome_2cm2kg ? 'yes' : 'no'}`) })] : null,
    e.end_date ? [h('dt', { text: t('episodes.end') }), h('dd', { text: fmtDate(e.end_date) })] : null));
  mount(h('h1', { text: t('episodes.title') }),
    d.episodes.length ? h('div', { id: 'episodes' }, d.episodes.slice().reverse().map(one)) : h('p', { id: 'episodes', text: t('episodes.none') }));
}

// ---- consent ----

// Asks before a withdrawal and says what it changes; `go` runs it.
function confirmWithdraw(where, purpose, provider, goFn) {
  const box = h('div', { class: 'confirm', role: 'alertdialog', 'aria-labelledby': 'confirm-h', 'aria-describedby': 'confirm-t' },
    h('p', { id: 'confirm-h', class: 'confirm-title', text: t('consent.confirmTitle', { purpose: t(`purpose.${purpose}`) }) }),
    h('p', { id: 'confirm-t', text: provider ? t('consent.confirmProvider', { provider }) : t('consent.confirmGeneral') }),
    h('p', { class: 'small', text: t('consent.confirmPast') }),
    h('div', { class: 'bb-actions' },
      h('button', { class: 'btn btn-danger', type: 'button', 'data-action': 'confirm-withdraw', onclick: goFn, text: t('consent.confirmYes') }),
      h('button', { class: 'btn btn-secondary', type: 'button', onclick: () => { box.remove(); where.hidden = false; where.focus(); }, text: t('consent.confirmNo') })));
  where.hidden = true;
  where.after(box);
  box.querySelector('button').focus();
}

export async function consent() {
  const [texts, mine, provs] = await Promise.all([get('/api/consent-texts'), get('/api/me/consents'), get('/api/me/providers')]);
  const latest = {};
  for (const x of texts.texts) if (!latest[x.purpose] || latest[x.purpose].version < x.version) latest[x.purpose] = x;
  const purposes = Object.keys(latest).filter((p) => p !== 'provider_sharing');
  const msg = h('div', { 'aria-live': 'assertive' });
  const act = async (purpose, granted, provider) => {
    const body = { purpose, granted, text_version: latest[purpose].version };
    if (provider) body.provider = provider;
    try {
      await post('/api/me/consents', body);
    } catch (err) { msg.replaceChildren(errorBox(err)); msg.scrollIntoView({ block: 'nearest' }); return; }
    toast(granted ? t('consent.grantedToast') : t('consent.withdrawnToast'));
    go('consent');
  };
  const withdrawBtn = (purpose, provider, sm) => {
    const b = h('button', { class: `btn btn-danger${sm ? ' btn-sm' : ''}`, type: 'button', 'data-action': 'withdraw', text: t('consent.withdraw') });
    b.addEventListener('click', () => confirmWithdraw(b, purpose, provider, () => act(purpose, false, provider)));
    return b;
  };
  const providerState = {};
  for (const c of mine.history) if (c.purpose === 'provider_sharing' && c.provider) providerState[c.provider] = c.state;
  // Only providers the server lists, and not those already shared with.
  const offer = provs.providers.filter((p) => providerState[p] !== 'granted');
  const provSel = h('select', { id: 'provider', name: 'provider', required: true, 'aria-describedby': 'provider-hint' },
    h('option', { value: '', text: t('consent.providerPick') }), offer.map((p) => h('option', { value: p, text: p })));
  const provForm = offer.length ? h('form', { class: 'row-form' },
    h('div', { class: 'field' }, h('label', { for: 'provider', text: t('consent.provider') }), provSel,
      h('p', { class: 'hint', id: 'provider-hint', text: t('consent.providerHint') })),
    h('button', { class: 'btn', type: 'submit', text: t('consent.grant') })) : h('p', { class: 'small', text: t('consent.providerNone') });
  provForm.addEventListener?.('submit', (ev) => { ev.preventDefault(); if (provSel.value) act('provider_sharing', true, provSel.value); });
  const textOf = (x) => (lang() === 'ja' ? x.ja : x.en);
  const channel = (c) => (has(`consent.channel.${c}`) ? t(`consent.channel.${c}`) : c);
  mount(h('h1', { text: t('consent.title') }), h('p', { class: 'lead', text: t('consent.lead') }), msg,
    h('div', { class: 'stack' }, purposes.map((p) => {
      const on = !!mine.current[p];
      return h('section', { class: 'card consent', 'data-purpose': p },
        h('div', { class: 'consent-head' }, h('h2', { text: t(`purpose.${p}`) }),
          h('span', { class: `badge ${on ? 'badge-ok' : 'badge-off'}`, 'data-state': on ? 'granted' : 'not' }, on ? t('consent.on') : t('consent.off'))),
        h('p', { class: 'consent-text', text: textOf(latest[p]) }),
        h('p', { class: 'small', text: t('consent.version', { v: latest[p].version }) }),
        on ? withdrawBtn(p, null, false)
          : h('button', { class: 'btn', type: 'button', 'data-action': 'grant', onclick: () => act(p, true), text: t('consent.grant') }));
    }),
    h('section', { class: 'card consent', 'data-purpose': 'provider_sharing' }, h('h2', { text: t('purpose.provider_sharing') }),
      h('p', { class: 'consent-text', text: textOf(latest.provider_sharing) }),
      Object.keys(providerState).length ? h('ul', { class: 'plain providers' }, Object.entries(providerState).map(([prov, st]) => h('li', { 'data-provider': prov },
        h('span', { class: 'prov-name', text: prov }), ' ', h('span', { class: `badge ${st === 'granted' ? 'badge-ok' : 'badge-off'}`, text: st === 'granted' ? t('consent.on') : t('consent.off') }), ' ',
        st === 'granted' ? withdrawBtn('provider_sharing', prov, true) : null))) : null,
      provForm)),
    card(t('consent.history'), mine.history.length ? h('div', { class: 'table-wrap' }, h('table', { class: 'simple consent-history' },
      h('thead', {}, h('tr', {}, ['when', 'purpose', 'state', 'channel'].map((c) => h('th', { scope: 'col', text: t(`consent.col.${c}`) })))),
      h('tbody', {}, [...mine.history].reverse().map((c) => h('tr', { 'data-channel': c.channel }, h('td', { text: fmtDateTime(c.recorded_at) }),
        h('td', { class: 'wrap-any', text: t(`purpose.${c.purpose}`) + (c.provider ? `（${c.provider}）` : '') }),
        h('td', { text: t(`consent.state.${c.state}`) }), h('td', { text: channel(c.channel) })))))) : h('p', { text: t('consent.noHistory') })));
}

// ---- who used my data ----

// Open recovery requests for the member's account: they confirm one (the
// code is then theirs) or refuse it.  Shown above the access log.
function recoveryCard(list) {
  if (!list.length) return null;
  const act = async (id, what) => {
    try {
      const r = await post(`/api/me/recoveries/${id}/${what}`, {});
      if (r.code) mount(card(t('recover.yourCode'), h('p', { class: 'code', id: 'recovery-code', text: r.code }),
        h('p', { text: t('recover.codeText') }), h('a', { class: 'btn', href: '#/access', text: t('recover.back') })));
      else { toast(t('recover.refused')); access(); }
    } catch (err) { toast(errorText(err)); }
  };
  return card(t('recover.pending'), h('ul', { class: 'stack' }, list.filter((x) => x.status === 'pending').map((x) =>
    h('li', { 'data-recovery': x.id }, h('p', { text: `${fmtDateTime(x.created_at)} — ${x.requested_by}${x.reason ? `: ${x.reason}` : ''}` }),
      h('button', { class: 'btn btn-sm', type: 'button', onclick: () => act(x.id, 'confirm'), text: t('recover.confirm') }), ' ',
      h('button', { class: 'btn btn-danger btn-sm', type: 'button', onclick: () => act(x.id, 'cancel'), text: t('recover.refuse') })))));
}

const ACCESS_PAGE = 20;

// An audit action in words; a code without text is "other", never raw.
function actionText(a) {
  const s = has(`action.${a}`) ? t(`action.${a}`) : null;
  return typeof s === 'string' && s !== `action.${a}` && !s.startsWith('[object') ? s : t('access.other');
}

// Who acted: the member, the command line (an administrator), or a role
// and the account's name.
function actorText(x) {
  if (x.role === 'individual') return t('access.you');
  const role = has(`role.${x.role}`) ? t(`role.${x.role}`) : t('access.other');
  if (x.actor === 'cli' || !x.actor) return x.role === 'admin' ? t('access.cli') : role;
  return lang() === 'ja' ? `${role}（${x.actor}）` : `${role} (${x.actor})`;
}

// The detail of a consent entry ("granted provider X", "academic_research
// withdrawn (paper)") in words; other details are internal and not shown.
function detailText(x) {
  if (!x.action.startsWith('consent.') || !x.detail) return null;
  const st = /\bwithdrawn\b/.test(x.detail) ? 'withdrawn' : /\bgranted\b/.test(x.detail) ? 'granted' : null;
  if (!st) return null;
  const prov = x.detail.match(/provider (\S+)/);
  const ch = x.detail.match(/\((web|paper|app|api)\)/);
  const extra = [prov && prov[1], ch && t(`consent.channel.${ch[1]}`)].filter(Boolean);
  return t(`access.detail.${st}`) + (extra.length ? (lang() === 'ja' ? `（${extra.join('・')}）` : ` (${extra.join(', ')})`) : '');
}

export async function access(params = []) {
  // Uses by others first: the member's own page views would bury them.
  const who = ['others', 'self', 'all'].includes(params[0]) ? params[0] : 'others';
  const offset = Math.max(0, Number(params[1]) || 0);
  const a = await get(`/api/me/audit?who=${who}&limit=${ACCESS_PAGE}&offset=${offset}`);
  let rec = [];
  try { rec = (await get('/api/me/recoveries')).recoveries || []; } catch { /* the log still shows */ }
  const total = a.counts.others + a.counts.self;
  const sel = h('select', { id: 'who', onchange: (ev) => go(`access/${ev.target.value}/0`) },
    [['others', a.counts.others], ['self', a.counts.self], ['all', total]].map(([v, n]) =>
      h('option', { value: v, selected: v === who, text: t(`access.who${v[0].toUpperCase()}${v.slice(1)}`, { n: fmtNum(n, 0) }) })));
  const to = offset + a.entries.length;
  const pager = a.total > ACCESS_PAGE ? h('div', { class: 'pager bb-actions' },
    h('button', { class: 'btn btn-secondary btn-sm', type: 'button', 'data-page': 'prev', disabled: offset === 0, onclick: () => go(`access/${who}/${Math.max(0, offset - ACCESS_PAGE)}`), text: t('access.prev') }),
    h('span', { class: 'meta', id: 'access-range', text: t('access.range', { total: fmtNum(a.total, 0), from: fmtNum(offset + 1, 0), to: fmtNum(to, 0) }) }),
    h('button', { class: 'btn btn-secondary btn-sm', type: 'button', 'data-page': 'next', disabled: to >= a.total, onclick: () => go(`access/${who}/${offset + ACCESS_PAGE}`), text: t('access.next') })) : null;
  mount(h('h1', { text: t('access.title') }), h('p', { class: 'lead', text: t('access.lead') }),
    recoveryCard(rec),
    h('div', { class: 'field inline' }, h('label', { for: 'who', text: t('access.who') }), sel),
    who === 'others' && a.counts.self ? h('p', { class: 'small', id: 'self-hidden', text: t('access.selfHidden', { n: fmtNum(a.counts.self, 0) }) }) : null,
    card(null, a.entries.length ? h('table', { class: 'simple access' },
      h('thead', {}, h('tr', {}, ['when', 'who', 'what', 'purpose', 'result'].map((c) => h('th', { scope: 'col', text: t(`access.col.${c}`) })))),
      h('tbody', {}, a.entries.map((x) => h('tr', { 'data-action': x.action, 'data-result': x.result, 'data-role': x.role },
        h('td', { 'data-label': t('access.col.when'), text: fmtDateTime(x.at) }),
        h('td', { 'data-label': t('access.col.who'), class: 'wrap-any' }, actorText(x)),
        h('td', { 'data-label': t('access.col.what') }, actionText(x.action), detailText(x) ? h('span', { class: 'small block', text: detailText(x) }) : null),
        h('td', { 'data-label': t('access.col.purpose'), text: has(`purpose.${x.purpose}`) ? t(`purpose.${x.purpose}`) : t('access.other') }),
        h('td', { 'data-label': t('access.col.result') }, h('span', { class: `badge ${x.result === 'ok' ? 'badge-ok' : 'badge-bad'}`, text: has(`result.${x.result}`) ? t(`result.${x.result}`) : t('access.other') })))))) : h('p', { text: who === 'others' ? t('access.noneOthers') : t('access.none') })),
    pager);
}

// ---- download ----

export async function download() {
  // One hc08 document per checkup (the MHLW standard): the latest by
  // default, any other by ?exam=.
  let exams = [];
  try { exams = (await get('/api/me/exams')).exams || []; } catch { /* the latest-exam link still works */ }
  mount(h('h1', { text: t('download.title') }), h('p', { class: 'lead', text: t('download.lead') }),
    h('div', { class: 'grid2' },
      card(t('download.fhir'), h('p', { text: t('download.fhirText') }),
        h('a', { class: 'btn', id: 'dl-fhir', href: '/fhir/Patient/$everything', download: 'kenbank-fhir.json', text: t('download.fhirButton') })),
      card(t('download.xml'), h('p', { text: t('download.xmlText') }),
        h('a', { class: 'btn', id: 'dl-xml', href: '/api/me/export.xml', download: 'kenbank-hc08.xml', text: t('download.xmlButton') }),
        // The same exam as the national FHIR checkup report (eCheckupReport);
        // $document needs an exam id, and /api/me/exams lists the latest first.
        exams.length ? h('p', {}, h('a', { class: 'btn', id: 'dl-ecr', href: ecr(exams[0]), download: `kenbank-echeckup-${exams[0].exam_date}.json`, text: t('download.ecrButton') })) : null,
        exams.length > 1 ? h('p', { class: 'small', text: t('download.xmlEach') }) : null,
        exams.length > 1 ? h('ul', { class: 'dl-list' }, exams.map((x) => h('li', {},
          h('a', { href: `/api/me/export.xml?exam=${encodeURIComponent(x.id)}`, download: `kenbank-hc08-${x.exam_date}.xml`, text: fmtDate(x.exam_date) }),
          ' ',
          h('a', { class: 'dl-ecr small', href: ecr(x), download: `kenbank-echeckup-${x.exam_date}.json`, text: t('download.ecrEach') })))) : null)));
}

function ecr(exam) {
  return `/fhir/Composition/${encodeURIComponent(exam.id)}/$document`;
}

export { session };
