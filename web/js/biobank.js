// biobank.js -- specimen bank screens.  Biobank staff: specimens, storage
// (box map), the application queue with its actions, statistics.
// Researchers: a new application, their own applications, results.
// Reviewers: the review queue.  Everything goes through /api/biobank; the
// server decides who may do what, these screens only offer the actions the
// state machine would accept from this role (docs/internals/web.md).
import { get, post } from './api.js';
import { t, has } from './i18n.js';
import { h, mount, toast, fmtNum, fmtDateTime, fyLabel, card, errorBox } from './ui.js';
import { session } from './app.js';

export const TYPES = ['serum', 'plasma', 'whole_blood', 'buffy_coat', 'pbmc', 'frozen_tissue', 'ffpe', 'tissue', 'dna', 'rna',
  'cdna', 'urine', 'saliva', 'faeces', 'csf', 'cells', 'other'];
const UNITS = ['mL', 'uL', 'mg', 'g', 'ug', 'ng', 'block', 'slide', 'count'];
const STATUSES = ['available', 'reserved', 'distributed', 'consumed', 'destroyed'];
const STATES = ['submitted', 'screening', 'scientific_review', 'ethics_review', 'approved', 'agreement_signed', 'reserved',
  'distributed', 'results_due', 'results_returned', 'closed', 'returned_for_changes', 'rejected', 'withdrawn', 'appeal'];
const REVIEW_STATES = ['scientific_review', 'ethics_review', 'appeal'];

// mount() takes nodes only; optional cards are null when absent.
const render = (...kids) => mount(...kids.filter((k) => k !== null && k !== undefined && k !== false));

// A vocabulary word shown in the current language, or as itself when the
// catalogue has no entry (a new type never shows an empty cell).
const word = (group, k) => (has(`bio.${group}.${k}`) ? t(`bio.${group}.${k}`) : k);
const typeName = (k) => word('type', k);
const stateName = (k) => word('state', k);

const TONE = {
  available: 'ok', approved: 'ok', agreement_signed: 'ok', distributed: 'ok', results_returned: 'ok', closed: 'off', shipped: 'ok',
  reserved: 'warn', submitted: 'warn', screening: 'warn', scientific_review: 'warn', ethics_review: 'warn', appeal: 'warn',
  returned_for_changes: 'warn', results_due: 'warn',
  rejected: 'bad', withdrawn: 'off', destroyed: 'bad', consumed: 'off', released: 'off',
};
const badge = (k, group = 'state') => h('span', { class: `badge badge-${TONE[k] || 'off'}`, 'data-state': k }, h('span', { class: 'dot', 'aria-hidden': 'true' }), word(group, k));

function field(id, label, control, hint) {
  control.id = id;
  if (hint) control.setAttribute('aria-describedby', `${id}-hint`);
  return h('div', { class: 'field' }, h('label', { for: id, text: label }), control, hint ? h('p', { class: 'hint', id: `${id}-hint`, text: hint }) : null);
}
const input = (name, attrs = {}) => h('input', { name, type: 'text', ...attrs });
const select = (name, values, label, attrs = {}) => h('select', { name, ...attrs }, values.map((v) => h('option', { value: v, text: label(v) })));
const table = (id, cols, rows, caption) => h('div', { class: 'table-wrap' }, h('table', { class: 'simple', id },
  caption ? h('caption', { text: caption }) : null,
  h('thead', {}, h('tr', {}, cols.map((c) => h('th', { scope: 'col', text: c })))), h('tbody', {}, rows)));

// Runs an action from a form or button: the button is disabled meanwhile,
// a refusal from the server is shown next to it (role="alert").
async function act(btn, out, fn) {
  btn.disabled = true;
  out.replaceChildren();
  try { await fn(); } catch (err) { out.replaceChildren(errorBox(err)); } finally { btn.disabled = false; }
}
const ok = (text) => h('p', { class: 'alert alert-ok', role: 'status', text });

// Boxes the staff have opened on this device: there is no API that lists
// storage units, so the box picker offers the ones seen here.
function knownBoxes() { try { return JSON.parse(localStorage.getItem('kb.bb.boxes') || '[]'); } catch { return []; } }
function rememberBox(name) {
  const list = [name, ...knownBoxes().filter((b) => b !== name)].slice(0, 20);
  try { localStorage.setItem('kb.bb.boxes', JSON.stringify(list)); } catch { /* private mode */ }
}
const boxList = (names = knownBoxes()) => h('datalist', { id: 'bb-boxes' }, names.map((b) => h('option', { value: b })));
const boxesOf = (tree) => tree.freezers.flatMap((f) => f.racks.flatMap((r) => r.boxes.map((b) => b.name)));

// Every freezer, rack and box with how full it is; a box opens its map.
function storageTree(tree, onOpen) {
  if (!tree.freezers.length) return h('p', { text: t('bio.st.noStorage') });
  return h('ul', { class: 'storage-tree', id: 'storage-tree' }, tree.freezers.map((f) => h('li', { 'data-freezer': f.name },
    h('strong', { text: t('bio.st.freezerLine', { name: f.name, temp: fmtNum(f.temperature_c) }) }),
    f.racks.length ? h('ul', {}, f.racks.map((r) => h('li', { 'data-rack': r.name }, h('span', { text: t('bio.st.rackLine', { name: r.name }) }),
      r.boxes.length ? h('ul', {}, r.boxes.map((b) => h('li', {}, h('button', { type: 'button', class: 'linkish', 'data-box': b.name, onclick: () => onOpen(b.name),
        text: t('bio.st.boxLine', { name: b.name, used: fmtNum(b.used, 0), all: fmtNum(b.rows * b.cols, 0), rows: b.rows, cols: b.cols }) })))) : h('p', { class: 'small', text: t('bio.st.emptyRack') })))) : h('p', { class: 'small', text: t('bio.st.emptyFreezer') }))));
}

// ---- biobank staff: specimens ----

function specimenDetail(s) {
  const pos = s.position ? `${s.position.box} ${s.position.position}` : t('bio.sp.notPlaced');
  const rows = [['barcode', s.barcode], ['donor', s.donor], ['type', typeName(s.type)], ['quantity', `${fmtNum(s.quantity)} ${s.unit}`],
    ['sprec', s.sprec], ['site', s.site], ['event', s.event], ['collected', s.collected_on], ['lineage', word('lineage', s.lineage)],
    ['parent', s.parent], ['freezeThaw', fmtNum(s.freeze_thaw, 0)], ['position', pos]];
  return h('div', { class: 'bb-detail', 'data-barcode': s.barcode, 'data-donor': s.donor },
    h('h3', { text: t('bio.sp.detail', { b: s.barcode }) }),
    h('dl', { class: 'bb-dl' }, rows.filter(([, v]) => v !== '' && v !== undefined).flatMap(([k, v]) => [h('dt', { text: t(`bio.sp.f.${k}`) }), h('dd', { text: v })]),
      h('dt', { text: t('bio.sp.f.status') }), h('dd', {}, badge(s.status, 'status'))),
    h('p', {}, h('a', { href: `/api/biobank/specimens/${encodeURIComponent(s.barcode)}/label`, target: '_blank', rel: 'noopener', text: t('bio.sp.label') })));
}

export async function specimens() {
  const detail = h('div', { id: 'sp-detail', 'aria-live': 'polite' });
  const results = h('div', { id: 'sp-results' });
  const show = async (bc) => {
    try { detail.replaceChildren(specimenDetail(await get(`/api/biobank/specimens/${encodeURIComponent(bc)}`))); } catch (err) { detail.replaceChildren(errorBox(err)); }
  };
  const status = select('status', ['', ...STATUSES], (v) => (v ? word('status', v) : t('bio.all')));
  const type = select('type', ['', ...TYPES], (v) => (v ? typeName(v) : t('bio.all')));
  const barcode = input('barcode', { autocomplete: 'off' });
  const search = h('form', { class: 'bb-row', role: 'search' },
    field('sp-status', t('bio.sp.f.status'), status), field('sp-type', t('bio.sp.f.type'), type),
    field('sp-barcode', t('bio.sp.f.barcode'), barcode), h('button', { class: 'btn', type: 'submit', text: t('bio.sp.search') }));
  const list = async () => {
    if (barcode.value.trim()) { results.replaceChildren(); return show(barcode.value.trim()); }
    const q = new URLSearchParams();
    if (status.value) q.set('status', status.value);
    if (type.value) q.set('type', type.value);
    const d = await get(`/api/biobank/specimens?${q}`);
    results.replaceChildren(h('p', { class: 'small', 'aria-live': 'polite', text: t('bio.sp.count', { n: fmtNum(d.specimens.length, 0) }) }),
      d.specimens.length ? table('sp-table', ['barcode', 'type', 'quantity', 'lineage', 'status', 'freezeThaw'].map((c) => t(`bio.sp.f.${c}`)),
        d.specimens.map((s) => h('tr', { 'data-barcode': s.barcode },
          h('td', {}, h('button', { class: 'linkish', type: 'button', text: s.barcode, onclick: () => show(s.barcode) })),
          h('td', { text: typeName(s.type) }), h('td', { class: 'num', text: `${fmtNum(s.quantity)} ${s.unit}` }),
          h('td', { text: word('lineage', s.lineage) }), h('td', {}, badge(s.status, 'status')), h('td', { class: 'num', text: fmtNum(s.freeze_thaw, 0) })))) : '');
  };
  search.addEventListener('submit', async (ev) => { ev.preventDefault(); try { await list(); } catch (err) { results.replaceChildren(errorBox(err)); } });

  const out = h('div', { 'aria-live': 'polite' });
  const today = new Date().toISOString().slice(0, 10);
  const reg = h('form', { class: 'stack', id: 'sp-register' },
    h('fieldset', { class: 'bb-fs' }, h('legend', { text: t('bio.sp.donor') }),
      h('div', { class: 'bb-row' },
        field('rg-source', t('bio.sp.f.source'), input('donor_source', { required: true })),
        field('rg-record', t('bio.sp.f.record'), input('donor_record', { required: true }))),
      h('p', { class: 'hint', text: t('bio.sp.donorHint') })),
    h('div', { class: 'bb-row' },
      field('rg-type', t('bio.sp.f.type'), select('type', TYPES, typeName)),
      field('rg-collected', t('bio.sp.f.collected'), input('collected_on', { type: 'date', value: today, required: true })),
      field('rg-quantity', t('bio.sp.f.quantity'), input('quantity', { type: 'number', min: 0, step: 'any', value: '1', required: true })),
      field('rg-unit', t('bio.sp.f.unit'), select('unit', UNITS, (u) => u))),
    h('div', { class: 'bb-row' },
      field('rg-sprec', t('bio.sp.f.sprec'), input('sprec', { required: true, autocomplete: 'off', spellcheck: 'false' }), t('bio.sp.sprecHint')),
      field('rg-site', t('bio.sp.f.site'), input('site')), field('rg-event', t('bio.sp.f.event'), input('event'))),
    h('div', { class: 'bb-row' },
      field('rg-box', t('bio.sp.f.box'), input('box', { list: 'bb-boxes', autocomplete: 'off' })),
      field('rg-position', t('bio.sp.f.positionIn'), input('position', { autocomplete: 'off', pattern: '[A-Za-z][0-9]{1,2}' }), t('bio.sp.positionHint'))),
    boxList(), h('button', { class: 'btn', type: 'submit', text: t('bio.sp.register') }), out);
  reg.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const f = reg.elements;
    act(reg.querySelector('button[type=submit]'), out, async () => {
      const body = { donor_source: f.donor_source.value.trim(), donor_record: f.donor_record.value.trim(), type: f.type.value,
        collected_on: f.collected_on.value, quantity: Number(f.quantity.value), unit: f.unit.value, sprec: f.sprec.value.trim().toUpperCase(),
        site: f.site.value.trim(), event: f.event.value.trim() };
      if (f.box.value.trim() && f.position.value.trim()) { body.box = f.box.value.trim(); body.position = f.position.value.trim().toUpperCase(); rememberBox(body.box); }
      const s = await post('/api/biobank/specimens', body);
      out.replaceChildren(ok(t('bio.sp.registered', { b: s.barcode, d: s.donor })));
      toast(t('bio.sp.registered', { b: s.barcode, d: s.donor }));
      detail.replaceChildren(specimenDetail(s));
      f.donor_record.value = '';
      f.position.value = '';
    });
  });
  render(h('h1', { text: t('bio.sp.title') }), h('p', { class: 'lead', text: t('bio.sp.lead') }),
    card(t('bio.sp.find'), search, results, detail), card(t('bio.sp.new'), reg));
  await list();
}

// ---- biobank staff: storage ----

// The box map comes as the CLI's text (kb_storage_map): a header line, the
// grid of '#' and '.', then one "  A1   BARCODE" line per occupied position.
export function parseMap(text) {
  const lines = text.split('\n');
  const m = lines[0].match(/^box (.+) \((.*), (-?[\d.]+) C\), (\d+) x (\d+)$/);
  if (!m) return null;
  const used = new Map();
  for (const l of lines) {
    const p = l.match(/^\s{2}([A-Z]\d+)\s+(\S+)$/);
    if (p) used.set(p[1], p[2]);
  }
  return { box: m[1], path: m[2], temp: Number(m[3]), rows: Number(m[4]), cols: Number(m[5]), used };
}

export async function storage() {
  const mapOut = h('div', { id: 'box-map', 'aria-live': 'polite' });
  const boxIn = input('box', { list: 'bb-boxes', autocomplete: 'off', required: true });
  const moveOut = h('div', { 'aria-live': 'polite' });
  const mv = h('form', { class: 'bb-row', id: 'place-form' },
    field('mv-barcode', t('bio.sp.f.barcode'), input('barcode', { required: true, autocomplete: 'off' })),
    field('mv-box', t('bio.sp.f.box'), input('box', { required: true, list: 'bb-boxes', autocomplete: 'off' })),
    field('mv-position', t('bio.sp.f.positionIn'), input('position', { required: true, autocomplete: 'off' })),
    h('button', { class: 'btn', type: 'submit', text: t('bio.st.place') }));
  const showMap = async (name) => {
    const d = await get(`/api/biobank/boxes/${encodeURIComponent(name)}/map`);
    const m = parseMap(d.map);
    if (!m) { mapOut.replaceChildren(h('pre', { class: 'code', text: d.map })); return; }
    rememberBox(name);
    const letters = Array.from({ length: m.rows }, (_, i) => String.fromCharCode(65 + i));
    const pick = (pos, bc) => {
      mv.elements.box.value = m.box;
      if (bc) { mv.elements.barcode.value = bc; mv.elements.position.focus(); } else { mv.elements.position.value = pos; mv.elements.barcode.focus(); }
    };
    mapOut.replaceChildren(
      h('p', { class: 'small', id: 'box-summary', text: t('bio.st.summary', { box: m.box, path: m.path, temp: fmtNum(m.temp), used: m.used.size, all: m.rows * m.cols }) }),
      h('div', { class: 'table-wrap' }, h('table', { class: 'box-grid', 'data-box': m.box, style: `--cols: ${m.cols}` },
        h('caption', { class: 'sr', text: t('bio.st.caption', { box: m.box }) }),
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, h('span', { class: 'sr', text: t('bio.st.row') })),
          Array.from({ length: m.cols }, (_, c) => h('th', { scope: 'col', text: c + 1 })))),
        h('tbody', {}, letters.map((r) => h('tr', {}, h('th', { scope: 'row', text: r }),
          Array.from({ length: m.cols }, (_, c) => {
            const pos = `${r}${c + 1}`, bc = m.used.get(pos);
            return h('td', {}, h('button', { type: 'button', class: `pos ${bc ? 'pos-used' : 'pos-free'}`, 'data-pos': pos,
              'aria-label': bc ? t('bio.st.usedLabel', { pos, b: bc }) : t('bio.st.freeLabel', { pos }), title: bc || t('bio.st.free'),
              onclick: () => pick(pos, bc) }, bc ? bc.slice(-4) : t('bio.st.freeShort')));
          })))))),
      h('p', { class: 'hint', text: t('bio.st.legend') }));
  };
  const open = h('form', { class: 'bb-row', id: 'box-open' }, field('st-box', t('bio.st.box'), boxIn),
    h('button', { class: 'btn', type: 'submit', text: t('bio.st.show') }), boxList());
  open.addEventListener('submit', async (ev) => { ev.preventDefault(); try { await showMap(boxIn.value.trim()); } catch (err) { mapOut.replaceChildren(errorBox(err)); } });
  mv.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const f = mv.elements;
    act(mv.querySelector('button[type=submit]'), moveOut, async () => {
      const s = await post(`/api/biobank/specimens/${encodeURIComponent(f.barcode.value.trim())}/place`, { box: f.box.value.trim(), position: f.position.value.trim().toUpperCase() });
      moveOut.replaceChildren(ok(t('bio.st.placed', { b: s.barcode, box: s.position.box, pos: s.position.position })));
      boxIn.value = s.position.box;
      await showMap(s.position.box);
    });
  });

  const mk = (id, kind, fields, body) => {
    const out = h('div', { 'aria-live': 'polite' });
    const f = h('form', { class: 'bb-row', id }, fields, h('button', { class: 'btn btn-secondary', type: 'submit', text: t(`bio.st.add.${kind}`) }), out);
    f.addEventListener('submit', (ev) => {
      ev.preventDefault();
      act(f.querySelector('button[type=submit]'), out, async () => {
        const b = body(f.elements);
        await post(`/api/biobank/storage/${kind}`, b);
        out.replaceChildren(ok(t('bio.st.added', { name: b.name })));
        if (kind === 'boxes') { rememberBox(b.name); boxIn.value = b.name; await showMap(b.name); }
        await loadTree();
      });
    });
    return h('section', { class: 'bb-sub' }, h('h3', { text: t(`bio.st.new.${kind}`) }), f);
  };
  const treeOut = h('div', { id: 'storage-list' });
  const openBox = async (name) => { boxIn.value = name; try { await showMap(name); mapOut.scrollIntoView({ block: 'nearest' }); } catch (err) { mapOut.replaceChildren(errorBox(err)); } };
  const loadTree = async () => {
    try {
      const tree = await get('/api/biobank/storage');
      treeOut.replaceChildren(storageTree(tree, openBox));
      document.getElementById('bb-boxes')?.replaceWith(boxList(boxesOf(tree)));
    } catch (err) { treeOut.replaceChildren(errorBox(err)); }
  };
  render(h('h1', { text: t('bio.st.title') }), h('p', { class: 'lead', text: t('bio.st.lead') }),
    card(t('bio.st.listTitle'), treeOut),
    card(t('bio.st.mapTitle'), open, mapOut),
    card(t('bio.st.moveTitle'), h('p', { class: 'hint', text: t('bio.st.moveHint') }), mv, moveOut),
    card(t('bio.st.units'),
      mk('new-freezer', 'freezers', [field('fz-name', t('bio.st.f.freezer'), input('name', { required: true })),
        field('fz-temp', t('bio.st.f.temp'), input('temperature', { type: 'number', step: 'any', value: '-80', required: true }))],
      (e) => ({ name: e.name.value.trim(), temperature: Number(e.temperature.value) })),
      mk('new-rack', 'racks', [field('rk-freezer', t('bio.st.f.freezer'), input('freezer', { required: true })),
        field('rk-name', t('bio.st.f.rack'), input('name', { required: true }))],
      (e) => ({ freezer: e.freezer.value.trim(), name: e.name.value.trim() })),
      mk('new-box', 'boxes', [field('bx-freezer', t('bio.st.f.freezer'), input('freezer', { required: true })),
        field('bx-rack', t('bio.st.f.rack'), input('rack', { required: true })), field('bx-name', t('bio.st.f.box'), input('name', { required: true })),
        field('bx-rows', t('bio.st.f.rows'), input('rows', { type: 'number', min: 1, max: 26, value: '9', required: true })),
        field('bx-cols', t('bio.st.f.cols'), input('cols', { type: 'number', min: 1, max: 99, value: '9', required: true }))],
      (e) => ({ freezer: e.freezer.value.trim(), rack: e.rack.value.trim(), name: e.name.value.trim(), rows: Number(e.rows.value), cols: Number(e.cols.value) }))));
  await loadTree();
  const last = knownBoxes()[0];
  if (last) { boxIn.value = last; try { await showMap(last); } catch { /* box gone */ } }
}

// ---- applications: lists and the detail page shared by all roles ----

const requested = (a) => a.specimens.map((r) => t('bio.app.req', { type: typeName(r.type), n: fmtNum(r.count, 0) })).join('、');

function appTable(apps, screen) {
  return table('app-table', ['id', 'title', 'pi', 'requested', 'state', 'created'].map((c) => t(`bio.app.col.${c}`)),
    apps.map((a) => h('tr', { 'data-app': a.id },
      h('td', { class: 'num', text: a.id }),
      h('td', {}, h('a', { href: `#/${screen}/${a.id}`, text: a.title })),
      h('td', { text: `${a.pi}（${a.organisation}）` }), h('td', { text: requested(a) }),
      h('td', {}, badge(a.state)), h('td', { text: fmtDateTime(a.created_at) }))));
}

// History comes as text lines (kb_app_history): transitions, then reviews.
export function parseHistory(text) {
  const events = [], reviews = [];
  for (const l of (text || '').split('\n')) {
    if (!l) continue;
    let m = l.match(/^(\S+) review by (\S+) at (\S+): (\w+)(?:: (.*))?$/);
    if (m) { reviews.push({ at: m[1], who: m[2], stage: m[3], decision: m[4], comment: m[5] || '' }); continue; }
    m = l.match(/^(\S+) (\S+) (\S+) (\S+) -> (\S+?)(?:: (.*))?$/);
    if (m) events.push({ at: m[1], who: m[2], role: m[3], from: m[4], to: m[5], comment: m[6] || '' });
    else events.push({ at: '', who: '', role: '', from: '', to: '', comment: l });
  }
  return { events, reviews };
}

async function appDetail(id, screen) {
  const a = await get(`/api/biobank/applications/${encodeURIComponent(id)}`);
  const role = session.me.role;
  const hist = parseHistory(a.history);
  const out = h('div', { id: 'app-out', 'aria-live': 'polite' });
  const reload = () => appDetail(id, screen);
  const comment = h('textarea', { name: 'comment', rows: 3 });
  const actions = [];
  const button = (label, fn, cls = 'btn') => {
    const b = h('button', { class: cls, type: 'button', text: label });
    b.addEventListener('click', () => act(b, out, async () => { const msg = await fn(); await reload(); toast(msg); }));
    return b;
  };
  const transition = (to) => button(t(`bio.to.${to}`), async () => {
    await post(`/api/biobank/applications/${a.id}/transition`, { to, comment: comment.value.trim() });
    return t('bio.app.moved', { s: stateName(to) });
  }, to === 'withdrawn' || to === 'rejected' ? 'btn btn-danger' : to === 'returned_for_changes' ? 'btn btn-secondary' : 'btn');
  const staff = role === 'biobank' || role === 'admin';
  const owner = role === 'researcher' || (role === 'admin' && a.owner === session.me.username);
  // The moves come from the server (application.c's table and separation of
  // duties), so the screen cannot drift from the rule.  In a review state
  // the reviewers' decisions go through the review form below, which records
  // the review; only withdrawal is a plain move there.
  const moves = (a.next || []).filter((to) => !REVIEW_STATES.includes(a.state) || to === 'withdrawn');
  for (const to of moves.filter((x) => x !== 'withdrawn')) actions.push(transition(to));
  if (staff) {
    if (a.state === 'agreement_signed') actions.push(button(t('bio.app.reserve'), async () => {
      const r = await post(`/api/biobank/applications/${a.id}/reserve`, {});
      return t('bio.app.reserved', { n: r.reserved, c: r.skipped_no_consent, s: r.shortfall });
    }));
    if (a.state === 'reserved') actions.push(button(t('bio.app.ship'), async () => {
      const r = await post(`/api/biobank/applications/${a.id}/ship`, {});
      return t('bio.app.shipped', { n: r.shipped, c: r.released_no_consent });
    }));
  }
  if (moves.includes('withdrawn')) actions.push(transition('withdrawn'));

  let review = null;
  if ((role === 'reviewer' || role === 'admin') && REVIEW_STATES.includes(a.state)) {
    const decisions = a.state === 'appeal' ? ['approve', 'reject', 'comment'] : ['approve', 'return', 'reject', 'comment'];
    const rc = h('textarea', { name: 'review_comment', rows: 4, required: true });
    const f = h('form', { class: 'stack', id: 'review-form' },
      h('fieldset', { class: 'bb-fs' }, h('legend', { text: t('bio.rv.decision', { stage: stateName(a.state) }) }),
        h('div', { class: 'bb-radios' }, decisions.map((d, i) => h('label', { class: 'radio' },
          h('input', { type: 'radio', name: 'decision', value: d, checked: i === 0 }), t(`bio.rv.d.${d}`))))),
      field('rv-comment', t('bio.rv.comment'), rc, t('bio.rv.commentHint')),
      h('button', { class: 'btn', type: 'submit', text: t('bio.rv.submit') }));
    f.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const decision = f.elements.decision.value;
      act(f.querySelector('button[type=submit]'), out, async () => {
        await post(`/api/biobank/applications/${a.id}/reviews`, { decision, comment: rc.value.trim() });
        await reload();
        toast(t('bio.rv.done', { d: t(`bio.rv.d.${decision}`) }));
      });
    });
    review = card(t('bio.rv.title'), f);
  }

  let results = null;
  const shipped = a.distribution.filter((x) => x.state === 'shipped');
  if ((staff || owner) && shipped.length && ['distributed', 'results_due', 'results_returned'].includes(a.state)) {
    const ta = h('textarea', { name: 'results', rows: Math.min(8, shipped.length + 1), spellcheck: 'false', placeholder: `${shipped[0].barcode},9N001000000000001,170.2,cm` });
    const f = h('form', { class: 'stack', id: 'results-form' }, field('rs-lines', t('bio.res.lines'), ta, t('bio.res.hint')),
      h('button', { class: 'btn', type: 'submit', text: t('bio.res.submit') }));
    f.addEventListener('submit', (ev) => {
      ev.preventDefault();
      act(f.querySelector('button[type=submit]'), out, async () => {
        const rows = ta.value.split('\n').map((l) => l.trim()).filter(Boolean).map((l, i) => {
          const [barcode, code, value, unit] = l.split(',').map((s) => (s || '').trim());
          if (!barcode || !code || value === undefined || value === '') throw new Error(t('bio.res.bad', { n: i + 1 }));
          const num = Number(value);
          return { barcode, code, value: Number.isFinite(num) ? num : value, ...(unit ? { unit } : {}) };
        });
        if (!rows.length) throw new Error(t('bio.res.empty'));
        await post(`/api/biobank/applications/${a.id}/results`, { results: rows });
        await reload();
        toast(t('bio.res.done', { n: rows.length }));
      });
    });
    results = card(t('bio.res.title'), f);
  }

  const dl = [['owner', a.owner], ['pi', a.pi], ['organisation', a.organisation], ['protocol', a.protocol],
    ['purpose', has(`purpose.${a.purpose}`) ? t(`purpose.${a.purpose}`) : a.purpose], ['requested', requested(a)], ['dataItems', a.data_items ? a.data_items.split(/[,、]\s*/).map((k) => itemName(k.trim())).join('、') : '—'],
    ['created', fmtDateTime(a.created_at)]];
  render(h('p', {}, h('a', { href: `#/${screen}`, text: t('bio.app.back') })),
    h('div', { class: 'page-head' }, h('h1', { text: t('bio.app.detail', { id: a.id, title: a.title }) }), h('p', { id: 'app-state' }, badge(a.state))),
    card(t('bio.app.summary'), h('dl', { class: 'bb-dl', id: 'app-summary' }, dl.flatMap(([k, v]) => [h('dt', { text: t(`bio.app.f.${k}`) }), h('dd', { text: v })]))),
    actions.length ? card(t('bio.app.actions'), field('app-comment', t('bio.app.comment'), comment), h('div', { class: 'actions bb-actions' }, actions)) : null,
    review, results, out,
    card(t('bio.app.distribution'), a.distribution.length ? table('dist-table', [t('bio.sp.f.barcode'), t('bio.sp.f.type'), t('bio.app.col.state')],
      a.distribution.map((x) => h('tr', { 'data-barcode': x.barcode, 'data-state': x.state }, h('td', { text: x.barcode }), h('td', { text: typeName(x.type) }),
        h('td', {}, badge(x.state, 'dist'))))) : h('p', { text: t('bio.app.noDistribution') })),
    card(t('bio.app.history'),
      table('history-table', ['at', 'who', 'from', 'to', 'comment'].map((c) => t(`bio.app.h.${c}`)), hist.events.map((e) => h('tr', {},
        h('td', { text: fmtDateTime(e.at) }), h('td', { text: e.who ? `${e.who}（${word('role', e.role)}）` : '' }),
        h('td', { text: e.from === '(new)' ? t('bio.app.new') : stateName(e.from) }), h('td', { text: stateName(e.to) }), h('td', { text: e.comment })))),
      hist.reviews.length ? [h('h3', { text: t('bio.app.reviews') }),
        table('review-table', ['at', 'who', 'stage', 'decision', 'comment'].map((c) => t(`bio.app.h.${c}`)), hist.reviews.map((r) => h('tr', {},
          h('td', { text: fmtDateTime(r.at) }), h('td', { text: r.who }), h('td', { text: stateName(r.stage) }), h('td', { text: word('rv.d', r.decision) }),
          h('td', { text: r.comment }))))] : null));
}

// ---- biobank staff: application queue ----

export async function apps(rest = []) {
  if (rest[0]) return appDetail(rest[0], 'bb-apps');
  const d = await get('/api/biobank/applications');
  const filter = select('state', ['open', '', ...STATES], (v) => (v === 'open' ? t('bio.app.open') : v ? stateName(v) : t('bio.all')));
  const body = h('div', {});
  const draw = () => {
    const v = filter.value;
    const list = d.applications.filter((a) => (v === 'open' ? !['closed', 'withdrawn', 'rejected'].includes(a.state) : !v || a.state === v));
    body.replaceChildren(list.length ? appTable(list, 'bb-apps') : h('p', { text: t('bio.app.none') }));
  };
  filter.addEventListener('change', draw);
  render(h('h1', { text: t('bio.app.queue') }), h('p', { class: 'lead', text: t('bio.app.queueLead') }),
    card(null, h('div', { class: 'bb-row' }, field('app-filter', t('bio.app.filter'), filter)), body));
  draw();
}

// ---- researcher ----

export async function mine(rest = []) {
  if (rest[0]) return appDetail(rest[0], 'bb-mine');
  const d = await get('/api/biobank/applications');
  render(h('div', { class: 'page-head' }, h('h1', { text: t('bio.app.mine') }), h('a', { class: 'btn', href: '#/bb-apply', text: t('bio.apply.new') })),
    card(null, d.applications.length ? appTable(d.applications, 'bb-mine') : h('p', { text: t('bio.app.noneMine') })));
}

// The title is counted as it is typed and refused beyond the limit, never
// cut (the server refuses it too: field_too_long).
const TITLE_MAX = 200;
function titleField() {
  const count = h('p', { class: 'hint', id: 'ap-title-count', 'aria-live': 'polite' });
  const el = input('title', { required: true });
  const update = () => {
    const n = [...el.value].length;
    count.textContent = t('bio.apply.titleCount', { n, max: TITLE_MAX });
    count.classList.toggle('error', n > TITLE_MAX);
    el.setCustomValidity(n > TITLE_MAX ? t('bio.apply.titleTooLong', { max: TITLE_MAX, over: n - TITLE_MAX }) : '');
  };
  el.addEventListener('input', update);
  const f = field('ap-title', t('bio.app.f.title'), el);
  f.append(count);
  update();
  return f;
}

// Data items are chosen from the catalogue by their Japanese names; the
// application keeps their keys, shown as names again on the detail page.
const DATA_ITEMS = ['bmi', 'weight', 'waist', 'sbp', 'dbp', 'hba1c', 'fpg', 'rpg', 'ldl', 'hdl', 'nonhdl', 'tg_fasting', 'tg_random', 'ast', 'alt', 'ggt', 'egfr', 'hb', 'uprot'];
const itemName = (k) => (has(`items.${k}`) ? t(`items.${k}`) : k);
function itemsField() {
  return h('fieldset', { class: 'bb-fs', id: 'ap-items' }, h('legend', { text: t('bio.app.f.dataItems') }),
    h('p', { class: 'hint', text: t('bio.apply.itemsPick') }),
    h('div', { class: 'checks' }, DATA_ITEMS.map((k) => h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'data_item', value: k }), ` ${itemName(k)}`))));
}

export async function apply() {
  // The purposes an application may name come from the server's rule
  // (biobank/application.c), not a copy here: a copy drifted once.
  const { purposes } = await get('/api/biobank/purposes');
  const out = h('div', { 'aria-live': 'polite' });
  const reqRows = h('div', { class: 'stack', id: 'req-rows' });
  let n = 0;
  const addReq = () => {
    n++;
    const row = h('div', { class: 'bb-row req-row' },
      field(`rq-type-${n}`, t('bio.apply.type', { n }), select('req_type', TYPES, typeName)),
      field(`rq-count-${n}`, t('bio.apply.count', { n }), input('req_count', { type: 'number', min: 1, max: 100000, value: '1', required: true })));
    if (n > 1) row.append(h('button', { class: 'btn btn-secondary btn-sm', type: 'button', text: t('bio.apply.remove', { n }), onclick: () => row.remove() }));
    reqRows.append(row);
  };
  addReq();
  const f = h('form', { class: 'stack', id: 'apply-form' },
    titleField(),
    h('div', { class: 'bb-row' },
      field('ap-pi', t('bio.app.f.pi'), input('pi', { required: true })),
      field('ap-org', t('bio.app.f.organisation'), input('organisation', { required: true, value: session.me.org || '' }))),
    field('ap-protocol', t('bio.app.f.protocol'), input('protocol', { required: true }), t('bio.apply.protocolHint')),
    field('ap-purpose', t('bio.app.f.purpose'), select('purpose', purposes, (p) => (has(`purpose.${p}`) ? t(`purpose.${p}`) : p)), t('bio.apply.purposeHint')),
    h('fieldset', { class: 'bb-fs' }, h('legend', { text: t('bio.app.f.requested') }), reqRows,
      h('button', { class: 'btn btn-secondary btn-sm', type: 'button', text: t('bio.apply.addType'), onclick: addReq })),
    itemsField(),
    h('button', { class: 'btn', type: 'submit', text: t('bio.apply.submit') }), out);
  f.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const e = f.elements;
    act(f.querySelector('button[type=submit]'), out, async () => {
      const types = [...reqRows.querySelectorAll('.req-row')].map((r) => `${r.querySelector('select').value}:${r.querySelector('input').value}`);
      const a = await post('/api/biobank/applications', { title: e.title.value.trim(), pi: e.pi.value.trim(), organisation: e.organisation.value.trim(),
        protocol: e.protocol.value.trim(), purpose: e.purpose.value, data_items: [...f.querySelectorAll('input[name=data_item]:checked')].map((c) => c.value).join(','), specimens: types.join(',') });
      toast(t('bio.apply.done', { id: a.id }));
      location.hash = `#/bb-mine/${a.id}`;
    });
  });
  render(h('h1', { text: t('bio.apply.title') }), h('p', { class: 'lead', text: t('bio.apply.lead') }), card(null, f));
}

// ---- reviewer ----

export async function reviews(rest = []) {
  if (rest[0]) return appDetail(rest[0], 'bb-reviews');
  const d = await get('/api/biobank/applications');
  const due = d.applications.filter((a) => REVIEW_STATES.includes(a.state));
  const done = d.applications.filter((a) => !REVIEW_STATES.includes(a.state) && !['submitted', 'screening'].includes(a.state));
  render(h('h1', { text: t('bio.rv.queue') }), h('p', { class: 'lead', text: t('bio.rv.lead') }),
    card(t('bio.rv.due', { n: due.length }), due.length ? appTable(due, 'bb-reviews') : h('p', { text: t('bio.rv.none') })),
    card(t('bio.rv.others'), done.length ? appTable(done, 'bb-reviews') : h('p', { text: t('bio.app.none') })));
}

// ---- statistics ----

export async function stats() {
  const s = await get('/api/biobank/stats');
  const fys = [...new Set(s.provided.map((p) => p.fiscal_year))].sort();
  const types = [...new Set(s.provided.map((p) => p.type))].sort((x, y) => TYPES.indexOf(x) - TYPES.indexOf(y));
  const n = (type, fy) => s.provided.filter((p) => (!type || p.type === type) && (!fy || p.fiscal_year === fy)).reduce((a, p) => a + p.count, 0);
  const numCell = (v, attrs = {}) => h('td', { class: 'num', ...attrs, text: fmtNum(v, 0) });
  const provided = types.length ? h('div', { class: 'table-wrap' }, h('table', { class: 'simple', id: 'stats-provided' },
    h('caption', { text: t('bio.stats.providedCaption') }),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col', text: t('bio.sp.f.type') }), fys.map((fy) => h('th', { scope: 'col', class: 'num', text: fyLabel(fy) })),
      h('th', { scope: 'col', class: 'num', text: t('bio.stats.total') }))),
    h('tbody', {}, types.map((ty) => h('tr', { 'data-type': ty }, h('th', { scope: 'row', text: typeName(ty) }),
      fys.map((fy) => numCell(n(ty, fy), { 'data-fy': fy })), numCell(n(ty), { 'data-fy': 'total' })))),
    h('tfoot', {}, h('tr', { 'data-type': 'total' }, h('th', { scope: 'row', text: t('bio.stats.total') }), fys.map((fy) => numCell(n(null, fy), { 'data-fy': fy })),
      numCell(n(), { 'data-fy': 'total' }))))) : h('p', { text: t('bio.stats.noneProvided') });
  const byState = Object.entries(s.applications_by_state);
  const total = byState.reduce((a, [, v]) => a + v, 0);
  const turn = Object.entries(s.turnaround_days);
  const day = (v, k) => (k.applications ? t('bio.stats.days', { d: fmtNum(v, 1) }) : '—');
  render(h('h1', { text: t('bio.stats.title') }), h('p', { class: 'lead', text: t('bio.stats.lead') }),
    h('div', { class: 'kpis' },
      h('div', { class: 'kpi', 'data-kpi': 'provided' }, h('p', { class: 'kpi-label', text: t('bio.stats.kpiProvided') }), h('p', { class: 'kpi-value', text: fmtNum(n(), 0) })),
      h('div', { class: 'kpi', 'data-kpi': 'applications' }, h('p', { class: 'kpi-label', text: t('bio.stats.kpiApps') }), h('p', { class: 'kpi-value', text: fmtNum(total, 0) }))),
    card(t('bio.stats.provided'), provided),
    h('div', { class: 'grid2' },
      card(t('bio.stats.byState'), table('stats-states', [t('bio.app.col.state'), t('bio.stats.apps')],
        byState.map(([k, v]) => h('tr', { 'data-state': k }, h('th', { scope: 'row', text: stateName(k) }), numCell(v))))),
      card(t('bio.stats.turnaround'), table('stats-turnaround', ['span', 'apps', 'median', 'mean'].map((c) => t(`bio.stats.${c}`)),
        turn.map(([k, v]) => h('tr', { 'data-turn': k }, h('th', { scope: 'row', text: word('turn', k) }), numCell(v.applications),
          h('td', { class: 'num', text: day(v.median, v) }), h('td', { class: 'num', text: day(v.mean, v) })))),
      h('p', { class: 'small', text: t('bio.stats.turnNote') }))));
}
