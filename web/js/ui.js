// ui.js -- small DOM helpers.  Every text node is created with textContent,
// never innerHTML, so nothing the server returns can become markup.
import { t, has, lang } from './i18n.js';

export function h(tag, attrs, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'text') el.textContent = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of kids.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function mount(...kids) {
  const main = document.getElementById('main');
  // an optional section passed as null must not print "null"
  main.replaceChildren(...kids.flat().filter((k) => k !== null && k !== undefined && k !== false));
  return main;
}

export function toast(msg) {
  const el = document.getElementById('toast');
  el.textContent = msg;
  el.classList.add('show');
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => el.classList.remove('show'), 3500);
}

export function fmtNum(v, decimals) {
  if (v === null || v === undefined) return '';
  const d = Number.isInteger(decimals) ? decimals : (Number.isInteger(v) ? 0 : 1);
  return Number(v).toLocaleString(lang() === 'ja' ? 'ja-JP' : 'en-GB',
    { minimumFractionDigits: d, maximumFractionDigits: d });
}

// Units as the MHLW table writes them (kg/m2, mg/dl, U/l) in their usual
// printed form (kg/m², mg/dL, U/L).
export function fmtUnit(u) {
  if (!u) return '';
  return u.replace(/([A-Za-z])2(?![0-9])/g, '$1²').replace(/([A-Za-z])3(?![0-9])/g, '$1³')
    .replace(/\bdl\b/g, 'dL').replace(/\bml\b/g, 'mL').replace(/\/l\b/g, '/L');
}

// Every date a person reads goes through these two: 2024年12月6日 and
// 2026年12月3日 18:30 in Japanese, 6 Dec 2024 and 6 Dec 2024, 18:30 in
// English.  A bare YYYY-MM-DD is a calendar day, not an instant, so it is
// printed as written, never shifted by a time zone.
const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;

// 和暦, the one era table (a setting, kept in localStorage; Japanese
// only).  An era's first year is 元年.  Newest first: a day belongs to the
// first era that began on or before it.
const ERAS = [['令和', 2019, 5, 1], ['平成', 1989, 1, 8], ['昭和', 1926, 12, 25], ['大正', 1912, 7, 30], ['明治', 1868, 1, 25]];

export function wareki() {
  try { return localStorage.getItem('kb.era') === 'wareki'; } catch { return false; }
}

export function setWareki(on) {
  try { localStorage.setItem('kb.era', on ? 'wareki' : 'seireki'); } catch { /* private mode */ }
}

function eraYear(y, m, d) {
  const day = y * 10000 + m * 100 + d;
  const era = ERAS.find(([, ey, em, ed]) => day >= ey * 10000 + em * 100 + ed);
  if (!era) return `${y}年`;
  const n = y - era[1] + 1;
  return `${era[0]}${n === 1 ? '元' : n}年`;
}

function dayText(y, m, d, withYear) {
  if (lang() === 'ja') return `${withYear ? (wareki() ? eraYear(y, m, d) : `${y}年`) : ''}${m}月${d}日`;
  const mon = new Date(Date.UTC(2000, m - 1, 1)).toLocaleString('en-GB', { month: 'short', timeZone: 'UTC' });
  return withYear ? `${d} ${mon} ${y}` : `${d} ${mon}`;
}

export function fmtDate(s, { year = true } = {}) {
  if (!s) return '';
  const m = DAY.exec(s);
  if (m) return dayText(Number(m[1]), Number(m[2]), Number(m[3]), year);
  const d = new Date(s);
  if (isNaN(d)) return s;
  return dayText(d.getFullYear(), d.getMonth() + 1, d.getDate(), year);
}

export function fmtDateTime(iso) {
  if (!iso) return '';
  if (DAY.test(iso)) return fmtDate(iso);
  const d = new Date(iso);
  if (isNaN(d)) return iso;
  const hm = `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
  return `${dayText(d.getFullYear(), d.getMonth() + 1, d.getDate(), true)}${lang() === 'ja' ? ' ' : ', '}${hm}`;
}

// A fiscal year starts in April, so FY2019 is 令和元年度 (the era changed
// in its second month) and FY1989 平成元年度.
export function fyLabel(fy) {
  if (lang() === 'ja' && wareki()) return t('common.fyEra', { y: eraYear(fy, 12, 31).replace(/年$/, '') });
  return t('common.fy', { y: fy });
}

// A suppressed count (null) reads "<10"; numbers are grouped.
export function cell(v, below = 10) {
  if (v === null) return t('dash.suppressed', { n: below });
  if (v === undefined) return '—';
  return fmtNum(v, 0);
}

export function card(title, ...body) {
  return h('section', { class: 'card' }, title ? h('h2', { text: title }) : null, ...body);
}

// What a person reads for a failed request: the catalogue's text for the
// API's stable error code (errors.<code>), else a generic message with the
// code.  The server's own message is English detail for logs and API users
// and may name tables or paths, so it is never shown.
export function errorText(err) {
  const code = err && err.code;
  if (code && has(`errors.${code}`)) return t(`errors.${code}`);
  if (err && err.status === 0) return t('errors.network');
  return t('errors.generic', { code: code || (err && err.status ? `HTTP ${err.status}` : 'client') });
}

export function errorBox(err) {
  return h('div', { class: 'alert alert-error', role: 'alert', 'data-error': (err && err.code) || null }, errorText(err));
}

// Chart.js is loaded by a classic <script> tag as window.Chart.
export function chart(canvas, config) {
  const C = window.Chart;
  if (!C) return null;
  C.defaults.font.family = getComputedStyle(document.body).fontFamily;
  C.defaults.color = '#36454f';
  config.options = Object.assign({ responsive: true, maintainAspectRatio: false, animation: false }, config.options);
  return new C(canvas, config);
}

export const COLORS = {
  primary: '#1d6a8a', teal: '#2a9d8f', amber: '#d08c00', red: '#c0392b', grey: '#8a99a6',
  light: '#b9d7e3', green: '#3c8d5a',
};
