// Dates read the same on every screen in Japanese: 2024年12月6日, and
// 2026年12月3日 18:30 with a time -- never 2024-12-06 or 2026/12/03.  Walks
// the member's screens (with a daily record, so the records table and the
// points ledger have rows) and the admin's operator, upload and dashboard
// screens, at 390 px and 1366 px.
import { run, check, login, MOBILE, PW } from './lib.js';

const ISO = /\d{4}[-/]\d{1,2}[-/]\d{1,2}/;
const JA_DAY = /\d{4}年\d{1,2}月\d{1,2}日/;
const JA_TIME = /\d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}/;
const jaDay = (s) => { const [y, m, d] = s.split('-').map(Number); return `${y}年${m}月${d}日`; };

// The visible text of main once the screen's heading is there and the
// loading placeholders are gone.
async function screen(page, base, name) {
  await page.goto(`${base}/#/${name}`);
  await page.locator('#main h1, #main h2').first().waitFor();
  await page.waitForFunction(() => !document.querySelector('#main [aria-busy="true"]'), null, { timeout: 10000 }).catch(() => {});
  return page.locator('#main').innerText();
}

await run('dates_ja', async ({ browser, base, codes }) => {
  const desktop = { viewport: { width: 1366, height: 900 }, locale: 'ja-JP' };
  let enrolled = false;
  for (const vp of [MOBILE, desktop]) {
    const w = vp.viewport.width;
    const ctx = await browser.newContext(vp);
    const page = await ctx.newPage();
    if (!enrolled) {
      const r = await ctx.request.post(`${base}/api/enrol`, { data: { code: codes[0], username: 'dates', password: PW } });
      check(r.status() === 201, `enrol: ${r.status()}`);
      enrolled = true;
    }
    await login(page, base, 'dates');
    await page.getByRole('heading', { name: '健診結果', level: 1 }).waitFor();
    const api = await page.evaluate(async () => (await fetch('/api/me/results')).json());
    // the checkup date in the 2024年12月6日 form
    const meta = await page.locator('#main .meta').first().innerText();
    check(meta.includes(`受診日 ${jaDay(api.exams[0].exam_date)}`), `${w}px results meta: ${meta}`);
    if (w === 390) {
      const csrf = (await page.evaluate(async () => (await fetch('/api/me')).json())).csrf;
      const st = await page.evaluate(async (c) => (await fetch('/api/me/sensors', { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': c },
        body: JSON.stringify({ readings: [{ kind: 'steps', date: '2026-11-03', value: 9000 }, { kind: 'weight', date: '2026-11-04', value: 61.5 }] }) })).status, csrf);
      check(st === 201, `readings stored: ${st}`);
    }
    for (const name of ['results', 'trends', 'health', 'points', 'consent', 'access', 'download']) {
      const text = await screen(page, base, name);
      const bad = text.match(new RegExp(`.{0,20}${ISO.source}.{0,20}`));
      check(!bad, `${w}px #/${name} shows a date as ${bad && bad[0]}`);
      if (name === 'health') check(text.includes('2026年11月3日'), `${w}px records table: 2026年11月3日`);
      if (name === 'access' || name === 'points') check(JA_TIME.test(text), `${w}px #/${name}: a time as 2026年12月3日 18:30`);
      if (name === 'download') check(JA_DAY.test(text), `${w}px #/${name}: checkup dates as 2024年12月6日`);
    }
    // the trend table's dates too
    await page.goto(`${base}/#/trends`);
    await page.locator('details summary').first().click();
    const tbl = await page.locator('#main details table').first().innerText();
    check(JA_DAY.test(tbl) && !ISO.test(tbl), `${w}px trend table dates: ${tbl.slice(0, 80)}`);
    await ctx.close();

    // staff screens: every timestamp as 2026年12月3日 18:30
    const sctx = await browser.newContext(vp);
    const sp = await sctx.newPage();
    await login(sp, base, 'admin');
    await sp.locator('#main h1, #main h2').first().waitFor();
    for (const name of ['operator', 'upload', 'dashboard']) {
      const text = await screen(sp, base, name);
      const bad = text.match(new RegExp(`.{0,20}${ISO.source}.{0,20}`));
      check(!bad, `${w}px admin #/${name} shows a date as ${bad && bad[0]}`);
    }
    await sctx.close();
  }
});
