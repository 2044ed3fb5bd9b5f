// app.js -- the shell: language, who is logged in, the menu for their role,
// and a hash router (#/results, #/dashboard, ...).  Each screen is a
// function in member.js or staff.js that renders into <main>.
import { get, post, setCsrf } from './api.js';
import { initialLang, setLang, t } from './i18n.js';
import { h, mount, errorBox, wareki, setWareki } from './ui.js';
import * as member from './member.js';
import * as staff from './staff.js';
import * as biobank from './biobank.js';

export const session = { me: null };

const MENUS = {
  individual: ['results', 'trends', 'health', 'episodes', 'points', 'consent', 'access', 'download'],
  insurer: ['dashboard', 'screening', 'rules'],
  institution: ['upload'],
  admin: ['operator', 'dashboard', 'screening', 'upload', 'rules'],
  reviewer: ['operator', 'bb-reviews', 'bb-stats'],
  biobank: ['bb-specimens', 'bb-storage', 'bb-apps', 'bb-stats'],
  researcher: ['bb-mine', 'bb-apply'],
};

const SCREENS = {
  login: member.login, enrol: member.enrol, recover: member.recover,
  results: member.results, trends: member.trends, health: member.health, episodes: member.episodes, points: member.points,
  consent: member.consent, access: member.access, download: member.download,
  dashboard: staff.dashboard, screening: staff.screening, rules: staff.rules, upload: staff.upload, operator: staff.operator,
  'bb-specimens': biobank.specimens, 'bb-storage': biobank.storage, 'bb-apps': biobank.apps, 'bb-stats': biobank.stats,
  'bb-mine': biobank.mine, 'bb-apply': biobank.apply, 'bb-reviews': biobank.reviews,
};

function allowed(name) {
  if (name === 'login' || name === 'enrol' || name === 'recover') return true;
  const role = session.me && session.me.role;
  return !!(role && (MENUS[role] || []).includes(name));
}

function renderNav(active) {
  const nav = document.getElementById('nav');
  const items = session.me ? (MENUS[session.me.role] || []) : [];
  nav.hidden = items.length === 0;
  nav.replaceChildren(h('ul', {}, items.map((n) => h('li', {},
    h('a', { href: `#/${n}`, 'aria-current': n === active ? 'page' : null }, t(`nav.${n}`))))));
  const out = document.getElementById('logout');
  out.hidden = !session.me;
}

export function home() {
  const items = session.me ? MENUS[session.me.role] : null;
  return items && items.length ? items[0] : (session.me ? 'none' : 'login');
}

export async function refreshMe() {
  try {
    session.me = await get('/api/me');
    setCsrf(session.me.csrf);
  } catch {
    session.me = null;
    setCsrf('');
  }
}

async function route() {
  const [name, ...rest] = location.hash.replace(/^#\/?/, '').split('/');
  let screen = name || home();
  if (!session.me && !['login', 'enrol', 'recover'].includes(screen)) screen = 'login';
  if (session.me && ['login', 'enrol', 'recover'].includes(screen)) screen = home();
  renderNav(screen);
  if (screen === 'none') {
    mount(h('section', { class: 'card' }, h('h1', { text: t('app.noScreens') })));
    return;
  }
  if (!SCREENS[screen] || !allowed(screen)) {
    mount(h('section', { class: 'card' }, h('h1', { text: t('app.notFound') }),
      h('p', {}, h('a', { href: `#/${home()}` }, t('app.backHome')))));
    return;
  }
  mount(h('p', { class: 'loading', text: t('app.loading') }));
  try {
    await SCREENS[screen](rest);
  } catch (err) {
    if (err.status === 401) { session.me = null; location.hash = '#/login'; return; }
    mount(errorBox(err));
  }
  const main = document.getElementById('main');
  const h1 = main.querySelector('h1');
  document.title = `${h1 ? h1.textContent + ' | ' : ''}${t('app.name')}`;
  // Which screen finished rendering last: tests wait on it rather than on
  // timing, since a slow screen's answer can land after the next one began.
  document.body.dataset.route = screen;
  if (route.moved) main.focus({ preventScroll: true });
  route.moved = true;
}

export function go(screen) {
  if (location.hash === `#/${screen}`) route();
  else location.hash = `#/${screen}`;
}

async function start() {
  await setLang(initialLang());
  const sel = document.getElementById('lang');
  sel.value = document.documentElement.lang;
  // 和暦 is a way of writing Japanese dates: the switch shows in Japanese only.
  const era = document.getElementById('era');
  const eraBox = document.getElementById('era-box');
  era.checked = wareki();
  eraBox.hidden = sel.value !== 'ja';
  era.addEventListener('change', () => { setWareki(era.checked); route(); });
  sel.addEventListener('change', async () => { await setLang(sel.value); eraBox.hidden = sel.value !== 'ja'; route(); });
  document.getElementById('logout').addEventListener('click', async () => {
    try { await post('/api/logout'); } catch { /* already gone */ }
    session.me = null;
    setCsrf('');
    go('login');
  });
  await refreshMe();
  window.addEventListener('hashchange', route);
  await route();
  document.body.dataset.ready = '1';
}

start();
