// i18n.js -- message catalogues (web/i18n/ja.json, en.json).  Japanese is the
// default; the choice is kept in localStorage.  t('a.b', {n: 1}) looks a key
// up and fills {n}; a missing key shows itself so gaps are easy to spot.
let current = 'ja';
let messages = {};

export function lang() { return current; }

export async function setLang(l) {
  current = l === 'en' ? 'en' : 'ja';
  const res = await fetch(`/i18n/${current}.json`, { cache: 'no-cache' });
  messages = await res.json();
  document.documentElement.lang = current;
  try { localStorage.setItem('kb.lang', current); } catch { /* private mode */ }
  for (const el of document.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  document.title = t('app.name');
}

export function initialLang() {
  try { return localStorage.getItem('kb.lang') || 'ja'; } catch { return 'ja'; }
}

export function has(key) { return lookup(key) !== undefined; }

function lookup(key) {
  return key.split('.').reduce((o, k) => (o && typeof o === 'object' ? o[k] : undefined), messages);
}

export function t(key, vars) {
  let s = lookup(key);
  if (typeof s !== 'string') return key;
  if (vars) s = s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
  return s;
}
