// Every staff screen of every staff role (insurer, institution, operator,
// reviewer, biobank, researcher), at 390 px and 1366 px in Japanese, is
// checked for what staff must never see: English error text, a literal
// null / undefined / NaN, an SQL keyword, and anything wider than the
// viewport outside a scrolling wrapper.  The data directory is given
// something on every screen first: a quarantined upload, review pairs,
// storage with a box, an application.
import { execFileSync } from 'node:child_process';
import { writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { run, check, login, show, ROOT, PW, MOBILE } from './lib.js';

const K = process.env.KENBANK || join(ROOT, 'build', 'kenbank');
const ENGLISH = /\b(error|failed|invalid|unknown|missing|not found|forbidden|internal|expected|rule:|field \w+|must be|got '|is not a|outside the|plausible|YYYY|@value|required)\b/i;
const NULLISH = /\b(null|undefined|NaN)\b/;
const SQL = /\b(SELECT|INSERT|UPDATE|DELETE|UNIQUE|CONSTRAINT|constraint failed|FROM \w+ WHERE)\b/;
const ROLES = {
  insurer: ['dashboard', 'screening', 'rules'],
  clinic: ['upload'],
  admin: ['operator', 'dashboard', 'screening', 'upload', 'rules'],
  revw: ['operator', 'bb-reviews', 'bb-stats'],
  bank: ['bb-specimens', 'bb-storage', 'bb-apps', 'bb-apps/1', 'bb-stats'],
  resa: ['bb-mine', 'bb-mine/1', 'bb-apply'],
};

function tooWide() {
  const vw = document.documentElement.clientWidth;
  const scrolls = (el) => { for (let p = el.parentElement; p; p = p.parentElement) { const o = getComputedStyle(p).overflowX; if (o === 'auto' || o === 'scroll') return true; } return false; };
  const out = [];
  for (const el of document.querySelectorAll('body *')) {
    const r = el.getBoundingClientRect();
    if (!r.width || getComputedStyle(el).visibility === 'hidden') continue;
    if (r.right > vw + 1 && !scrolls(el)) out.push(`${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}.${el.className} (${Math.round(r.left)}..${Math.round(r.right)} of ${vw})`);
  }
  return { out: out.slice(0, 5), page: document.documentElement.scrollWidth > vw + 1 ? document.documentElement.scrollWidth : 0 };
}

const call = (page, method, path, body) => page.evaluate(async ([m, p, b]) => {
  const me = await (await fetch('/api/me')).json();
  const r = await fetch(p, { method: m, headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': me.csrf }, body: b ? JSON.stringify(b) : undefined });
  return r.status;
}, [method, path, body]);

await run('staff_sweep', async ({ browser, base, data }) => {
  for (const [u, role, org] of [['bank', 'biobank', 'bank-1'], ['resa', 'researcher', 'uni-1'], ['revw', 'reviewer', 'irb-1']])
    execFileSync(K, ['user', 'add', '--data', data, '--username', u, '--role', role, '--org', org], { env: { ...process.env, KENBANK_PASSWORD: PW }, stdio: 'ignore' });
  execFileSync('sqlite3', [join(data, 'identity.db'), `INSERT INTO review_queue (record_a, record_b, score, status, created_at)
    SELECT a.id, b.id, 3.0, 'pending', '2026-01-01T00:00:00.000Z' FROM person_records a JOIN person_records b ON b.id = a.id + 1
    WHERE a.id % 2 = 1 ORDER BY a.id LIMIT 3`]);
  // something on every screen
  {
    const ctx = await browser.newContext();
    const p = await ctx.newPage();
    await login(p, base, 'bank');
    await p.getByRole('heading', { name: '試料の管理' }).waitFor();
    for (const [kind, body] of [['freezers', { name: 'F1', temperature: -80 }], ['racks', { freezer: 'F1', name: 'R1' }],
      ['boxes', { freezer: 'F1', rack: 'R1', name: 'BOX1', rows: 9, cols: 9 }]]) check(await call(p, 'POST', `/api/biobank/storage/${kind}`, body) === 201, `storage ${kind}`);
    await ctx.close();
    const c2 = await browser.newContext();
    const r = await c2.newPage();
    await login(r, base, 'resa');
    await r.getByRole('heading', { name: '私の利用申請' }).waitFor();
    check(await call(r, 'POST', '/api/biobank/applications', { title: '血清の研究', pi: '試験 太郎', organisation: 'uni-1', protocol: 'IRB-1',
      purpose: 'academic_research', data_items: 'hba1c,bmi', specimens: 'serum:2' }) === 201, 'application');
    await c2.close();
    const c3 = await browser.newContext();
    const q = await c3.newPage();
    await login(q, base, 'clinic');
    await q.getByRole('heading', { name: '健診データの送信' }).waitFor();
    const f = join(tmpdir(), `kb-sweep-${process.pid}.csv`);
    writeFileSync(f, 'source,record_id,exam_date,performer_org,insurer_no,insured_symbol,insured_number,branch_no,family_name,given_name,family_kana,given_kana,sex,birth_date,postal_code,address,9N006000000000001\n'
      + 'kenshin,sw-1,2024-02-30,1410000001,06140019,AB,900,00,試験,一郎,シケン,イチロウ,1,1970-04-01,2310023,横浜市中区1,999\n');
    await q.getByLabel('送信するファイル').setInputFiles(f);
    await q.getByRole('button', { name: '送信する', exact: true }).click();
    await q.locator('#quarantine tbody tr').first().waitFor();
    rmSync(f, { force: true });
    await c3.close();
  }

  for (const vp of [MOBILE, { viewport: { width: 1366, height: 900 }, locale: 'ja-JP' }]) {
    const w = vp.viewport.width;
    for (const [user, screens] of Object.entries(ROLES)) {
      const ctx = await browser.newContext(vp);
      const page = await ctx.newPage();
      await login(page, base, user);
      // logged in: a screen other than the login form has rendered (the
      // login form's own heading must not satisfy the wait)
      await page.waitForFunction(() => document.body.dataset.route && document.body.dataset.route !== 'login');
      for (const name of screens) {
        // the previous screen's heading must not satisfy the wait
        await page.evaluate(() => document.getElementById('main').replaceChildren());
        await show(page, base, name);
        await page.waitForLoadState('networkidle');
        // the audit check's answer is part of the operator screen
        if (name === 'operator' && user === 'admin') {
          await page.getByRole('button', { name: '監査ログを検証する' }).click();
          await page.locator('#verify-out [role=status]').waitFor();
        }
        const text = await page.locator('body').innerText();
        const where = `${w}px ${user} #/${name}`;
        check(!/読み込み中/.test(await page.locator('#main').innerText()) || name === 'operator', `${where} still loading`);
        for (const [re, what] of [[ENGLISH, 'English error text'], [NULLISH, 'null/undefined'], [SQL, 'an SQL keyword']]) {
          const m = text.match(new RegExp(`[\\s\\S]{0,60}${re.source}[\\s\\S]{0,60}`, re.flags));
          check(!m, `${where} shows ${what}: "${m && m[0]}"`);
        }
        const wide = await page.evaluate(tooWide);
        check(!wide.page && !wide.out.length, `${where} wider than the viewport: page ${wide.page}px; ${wide.out.join('; ')}`);
      }
      await ctx.close();
    }
  }
}, { people: 60, noise: false, timeoutMs: 540000 });
