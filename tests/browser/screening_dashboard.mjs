// (issue 22) The municipality's cancer screening page: its own open 精密検査
// cases by pseudonym, the contact details of one on request (audited), and
// the process indicators with small cells suppressed, matching the API.
// Desktop-sized, in Japanese.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { run, check, shot, login, DESKTOP, ROOT } from './lib.js';

const K = process.env.KENBANK || join(ROOT, 'build', 'kenbank');

await run('screening_dashboard', async ({ browser, base, data }) => {
  // the insurer account of the set-up belongs to source "kenshin"
  execFileSync(K, ['import', '--data', data, '--source', 'kenshin', join(ROOT, 'tests', 'fixtures', 'screening', 'lung_primary.json')]);
  const ctx = await browser.newContext(DESKTOP);
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await login(page, base, 'insurer');
  await page.getByRole('heading', { name: '特定健診 集計ダッシュボード' }).waitFor();
  await page.getByRole('link', { name: 'がん検診' }).click();
  await page.getByRole('heading', { name: 'がん検診 プロセス指標と精密検査' }).waitFor();

  const [ind, cases] = await page.evaluate(async () => Promise.all([
    (await fetch('/api/screening/indicators')).json(), (await fetch('/api/screening/cases?state=open')).json()]));
  const lung = ind.rows.find((r) => r.screening === 'lung' && r.sex === 'all');
  check(lung && lung.screened === null, `one screened person is a suppressed cell: ${JSON.stringify(lung)}`);
  const row = page.locator(`#scr-table tr[data-row="lung-${lung.fiscal_year}"]`);
  check((await row.locator('td[data-col="screened"]').innerText()).trim() === '10未満', 'suppressed on the page');
  check((await row.locator('td[data-col="referral_rate"]').innerText()).trim() === '—', 'rate on a small cell hidden');

  // The fixture's case is open until its window ends (2027-03-31), then lapsed.
  if (new Date().toISOString().slice(0, 10) <= '2027-03-31') {
    check(cases.cases.length === 1, `one open case: ${JSON.stringify(cases)}`);
    const cr = page.locator(`#scr-cases tr[data-pseudonym="${cases.cases[0].pseudonym}"]`);
    check((await cr.innerText()).includes('肺がん検診'), 'the case row');
    check(!(await page.locator('main').innerText()).includes('見本'), 'no name before asking');
    await cr.getByRole('button', { name: '連絡先を表示' }).click();
    await cr.getByText('見本 花子（ミホン ハナコ）').waitFor();
  } else {
    await page.getByText('精密検査の結果待ちの方はいません。').waitFor();
  }
  check(await page.evaluate(() => !!(window.Chart && window.Chart.getChart('c-scr'))), 'rates chart drawn');
  await shot(page, 'screening_dashboard');
  check(errors.length === 0, `no page errors: ${errors.join('; ')}`);
});
