// Every member screen, at 390 px and 1366 px in Japanese, is checked for
// what a member must never see: English error text, a literal null /
// undefined / NaN, an SQL keyword, and anything wider than the viewport
// (the page must not scroll sideways; only a table inside its own
// scrolling wrapper may be wider than the screen).
import { run, check, login, MOBILE, PW } from './lib.js';

// Each screen, and the states added later: the trend of blood pressure
// with home readings, the access log's other filters, the consent screen
// with a withdrawal being confirmed, and every date in 和暦.
const SCREENS = ['results', 'trends', 'trends/sbp', 'health', 'episodes', 'points', 'consent', 'consent!withdraw', 'access', 'access/self/0', 'access/all/0', 'download',
  'results!wareki', 'access/all/0!wareki'];
const ENGLISH = /\b(error|failed|invalid|unknown|missing|not found|forbidden|internal|expected|rule:|field \w+)\b/i;
const NULLISH = /\b(null|undefined|NaN)\b/;
const SQL = /\b(SELECT|INSERT|UPDATE|DELETE|UNIQUE|CONSTRAINT|constraint failed|FROM \w+ WHERE)\b/;

// Elements wider than the viewport that are not inside a scrolling wrapper.
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

await run('member_sweep', async ({ browser, base, codes }) => {
  for (const [i, vp] of [MOBILE, { viewport: { width: 1366, height: 900 }, locale: 'ja-JP' }].entries()) {
    const w = vp.viewport.width;
    const ctx = await browser.newContext(vp);
    const page = await ctx.newPage();
    const r = await ctx.request.post(`${base}/api/enrol`, { data: { code: codes[i], username: `sweep${w}`, password: PW } });
    check(r.status() === 201, `enrol: ${r.status()}`);
    await login(page, base, `sweep${w}`);
    await page.getByRole('heading', { name: '健診結果', level: 1 }).waitFor();
    // home readings for the blood pressure trend, and a consent to withdraw
    const csrf = await page.evaluate(async () => (await (await fetch('/api/me')).json()).csrf);
    await ctx.request.post(`${base}/api/me/sensors`, { headers: { 'X-CSRF-Token': csrf },
      data: { readings: [['2026-10-01', 128, 82], ['2026-10-08', 138, 88]].map(([date, v, v2]) => ({ kind: 'bp', date, value: v, value2: v2 })) } });
    await ctx.request.post(`${base}/api/me/consents`, { headers: { 'X-CSRF-Token': csrf }, data: { purpose: 'recontact', granted: true } });
    for (const screen of SCREENS) {
      const [name, state] = screen.split('!');
      await page.evaluate((on) => localStorage.setItem('kb.era', on ? 'wareki' : 'seireki'), state === 'wareki');
      await page.goto(`${base}/#/${name}`);
      if (state === 'wareki') await page.reload();
      await page.locator('#main h1').first().waitFor();
      await page.waitForFunction(() => !document.querySelector('#main .loading'), null, { timeout: 10000 });
      if (state === 'withdraw') {
        await page.locator('section[data-purpose="recontact"] [data-action="withdraw"]').click();
        await page.getByRole('alertdialog').waitFor();
      }
      if (state === 'wareki') check(/令和/.test(await page.locator('main').innerText()), `${w}px #/${name}: no 和暦 date`);
      const text = await page.locator('body').innerText();
      const where = `${w}px #/${screen}`;
      for (const [re, what] of [[ENGLISH, 'English error text'], [NULLISH, 'null/undefined'], [SQL, 'an SQL keyword']]) {
        const m = text.match(new RegExp(`.{0,30}${re.source}.{0,30}`, re.flags));
        check(!m, `${where} shows ${what}: "${m && m[0]}"`);
      }
      const wide = await page.evaluate(tooWide);
      check(!wide.page && !wide.out.length, `${where} wider than the viewport: page ${wide.page}px; ${wide.out.join('; ')}`);
    }
    await ctx.close();
  }
});
