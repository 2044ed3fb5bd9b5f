// 和暦 as an option (issue 18): a switch in the footer makes every date the
// member reads 令和6年12月6日 (fmtDate, fmtDateTime and fiscal years 令和6年度
// through the one era table in ui.js); era boundaries and 元年 are right;
// the choice survives a reload; off again, dates are 2024年12月6日; the
// switch is offered in Japanese only.
import { run, check, login, PW } from './lib.js';

const SEIREKI = /(19|20)\d\d年\d{1,2}月\d{1,2}日/;
const WAREKI = /(令和|平成)(元|\d{1,2})年\d{1,2}月\d{1,2}日/;

await run('member_wareki', async ({ browser, base, codes }) => {
  const ctx = await browser.newContext({ viewport: { width: 1366, height: 900 }, locale: 'ja-JP' });
  const page = await ctx.newPage();
  check((await ctx.request.post(`${base}/api/enrol`, { data: { code: codes[0], username: 'era', password: PW } })).status() === 201, 'enrol');
  await login(page, base, 'era');
  await page.getByRole('heading', { name: '健診結果', level: 1 }).waitFor();
  const meta = () => page.locator('#main p.meta').innerText();
  check(SEIREKI.test(await meta()), `西暦 by default: ${await meta()}`);

  const sw = page.getByLabel(/和暦で表示/);
  await sw.check();
  await page.waitForFunction(() => /令和|平成/.test(document.querySelector('#main p.meta')?.textContent || ''));
  const m = await meta();
  check(WAREKI.test(m) && !SEIREKI.test(m), `results date in 和暦: ${m}`);
  const fy = await page.locator('#fy option').allTextContents();
  check(fy.every((x) => /^令和(元|\d+)年度$/.test(x)), `fiscal years in 和暦: ${fy}`);

  // the era table: boundaries, 元年, timestamps
  const cases = await page.evaluate(async () => {
    const ui = await import('/js/ui.js');
    return ['2019-04-30', '2019-05-01', '2020-01-01', '1989-01-07', '1989-01-08', '2024-12-06'].map((d) => ui.fmtDate(d))
      .concat([ui.fyLabel(2019), ui.fyLabel(2018), ui.fmtDateTime('2026-12-03T09:30:00')]);
  });
  const want = ['平成31年4月30日', '令和元年5月1日', '令和2年1月1日', '昭和64年1月7日', '平成元年1月8日', '令和6年12月6日', '令和元年度', '平成30年度'];
  want.forEach((w, k) => check(cases[k] === w, `era table: ${cases[k]} should be ${w}`));
  check(/^令和8年12月3日 \d\d:\d\d$/.test(cases[8]), `a timestamp in 和暦: ${cases[8]}`);

  // other screens follow, and the choice survives a reload
  await page.locator('#nav').getByRole('link', { name: '利用履歴' }).click();
  await page.locator('table.access').waitFor();
  const log = await page.locator('table.access').innerText();
  check(/令和\d+年\d+月\d+日 \d\d:\d\d/.test(log) && !SEIREKI.test(log), `access log in 和暦: ${log.slice(0, 120)}`);
  await page.reload();
  await page.waitForFunction(() => document.body.dataset.ready === '1');
  check(await sw.isChecked(), 'the switch is kept');
  check(WAREKI.test(await page.locator('table.access').innerText()), 'still 和暦 after a reload');

  // off again
  await sw.uncheck();
  await page.waitForFunction(() => /(19|20)\d\d年/.test(document.querySelector('table.access')?.textContent || ''));
  // English: no era switch
  await page.locator('#lang').selectOption('en');
  await page.waitForFunction(() => document.documentElement.lang === 'en');
  check(!(await page.locator('#era-box').isVisible()), 'the era switch shows in Japanese only');
  await ctx.close();
});
