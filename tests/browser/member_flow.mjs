// (a) A member enrols with the insurer's code, logs in, sees results and a
// trend chart, withdraws a consent, and finds the withdrawal in "who used my
// data".  Mobile-sized, in Japanese.
import { run, check, shot, MOBILE, PW } from './lib.js';

await run('member_flow', async ({ browser, base, codes }) => {
  const ctx = await browser.newContext(MOBILE);
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  // The first /api/me before login answers 401, which chromium logs.
  page.on('console', (m) => { if (m.type() === 'error' && !/status of 401/.test(m.text())) errors.push(m.text()); });

  await page.goto(base);
  await page.getByRole('heading', { name: 'ログイン' }).waitFor();
  check(await page.locator('html').getAttribute('lang') === 'ja', 'Japanese by default');
  await shot(page, 'member_login');

  // enrol -> logged in
  await page.getByRole('link', { name: '登録コードでアカウントを作成' }).click();
  await page.getByLabel('登録コード').fill(codes[0].toLowerCase());
  await page.getByLabel('ユーザー名').fill('hanako');
  await page.getByLabel('パスワード', { exact: true }).fill(PW);
  await page.getByLabel('パスワード（確認）').fill(PW);
  await page.getByRole('button', { name: 'アカウントを作成する' }).click();

  // results of the newest year: judgements explained, items with ranges
  await page.getByRole('heading', { name: '健診結果', level: 1 }).waitFor();
  // the header title is whole on a 390 px phone, beside language and logout
  const title = await page.locator('.brand span:last-child').evaluate((el) => ({
    cut: el.scrollWidth > el.clientWidth + 1, text: el.textContent, right: el.getBoundingClientRect().right,
    tools: document.querySelector('.bar-tools').getBoundingClientRect().left }));
  check(!title.cut && title.right <= title.tools, `header title "${title.text}" is not cut off`);
  const api = await page.evaluate(async () => (await fetch('/api/me/results')).json());
  check(api.exams.length === 3, `three checkups, got ${api.exams.length}`);
  const newest = api.exams[0];
  const metaboName = { 1: '基準該当', 2: '予備群該当', 3: '非該当', 4: '判定不能' }[newest.metabo];
  const guideName = { 1: '積極的支援', 2: '動機付け支援', 3: '対象外（情報提供）', 4: '判定不能' }[newest.guidance];
  await page.locator('.judge-metabo-' + newest.metabo).getByText(metaboName).waitFor();
  await page.locator('.judge-guidance-' + newest.guidance).getByText(guideName).waitFor();
  const hba1c = newest.items.find((i) => i.key === 'hba1c');
  const row = page.locator('tr[data-key="hba1c"]');
  check((await row.innerText()).includes(hba1c.value.toFixed(1)), `HbA1c value ${hba1c.value} shown: ${await row.innerText()}`);
  check((await row.innerText()).includes('5.6 未満'), 'HbA1c reference range shown');
  const lvl = ['基準範囲内', '保健指導判定値', '受診勧奨判定値'][hba1c.level];
  check((await row.innerText()).includes(lvl), `HbA1c judgement ${lvl}`);
  const referrals = newest.items.filter((i) => i.level === 2);
  if (referrals.length) await page.getByRole('heading', { name: '医療機関の受診をおすすめします' }).waitFor();
  else await page.getByText('今回の結果に「受診勧奨判定値」の項目はありません。').waitFor();
  await shot(page, 'member_results');

  // earlier year through the selector
  await page.getByLabel('年度').selectOption(String(api.exams[2].fiscal_year));
  await page.waitForURL(/#\/results\/\d+/);
  const [y2, m2, d2] = api.exams[2].exam_date.split('-').map(Number);
  await page.getByText(`受診日 ${y2}年${m2}月${d2}日`).waitFor();

  // trend chart
  await page.getByRole('link', { name: '経年変化' }).click();
  const canvas = page.locator('canvas#trend-chart');
  await canvas.waitFor();
  const drawn = await page.evaluate(() => {
    const c = window.Chart && window.Chart.getChart('trend-chart');
    return c ? c.data.datasets[0].data.filter((v) => v !== null).length : 0;
  });
  check(drawn === 3, `trend chart has 3 checkup points, got ${drawn}`);
  await shot(page, 'member_trends');

  // a daily record by the form, then points
  await page.getByRole('link', { name: '日々の記録' }).click();
  await page.getByLabel('記録の種類').selectOption('steps');
  await page.getByLabel('歩数（歩）').fill('9200');
  await page.getByRole('button', { name: '記録する' }).click();
  await page.locator('#steps-chart').waitFor();
  await shot(page, 'member_records');
  await page.getByRole('link', { name: 'ポイント' }).click();
  await page.getByRole('heading', { name: 'ポイント履歴' }).waitFor();
  const pts = await page.evaluate(async () => (await fetch('/api/me/points')).json());
  check(pts.balance >= 3 * 500 + 10, `points for 3 checkups and a step day, got ${pts.balance}`);
  check((await page.locator('#balance').innerText()).replace(/[,，]/g, '') === String(pts.balance), 'balance shown');
  await shot(page, 'member_points');

  // consent: grant then withdraw academic research
  await page.getByRole('link', { name: '同意の管理' }).click();
  const card = page.locator('section[data-purpose="academic_research"]');
  await card.getByRole('button', { name: '同意する' }).click();
  await card.locator('[data-state="granted"]').waitFor();
  await card.getByRole('button', { name: '同意を撤回する' }).click();
  await page.getByRole('alertdialog').getByRole('button', { name: '撤回する', exact: true }).click();
  await card.locator('[data-state="not"]').waitFor();
  await page.getByRole('cell', { name: '撤回' }).first().waitFor();
  await shot(page, 'member_consent');

  // who used my data: the withdrawal is there
  await page.getByRole('link', { name: '利用履歴' }).click();
  await page.locator('table.access').waitFor();
  await shot(page, 'member_access'); // uses by others, the default
  await page.getByLabel('表示する記録').selectOption('self'); // uses by others come first
  const w = page.locator('tr[data-action="consent.write"]').filter({ hasText: '撤回' });
  await w.first().waitFor();
  check((await w.first().innerText()).includes('大学・公的機関の学術研究'), 'withdrawal names the purpose');
  check(await page.locator('tr[data-action="exam.read"]').count() >= 1, 'result reads are listed');

  // English switch
  await page.getByLabel('表示言語').selectOption('en');
  await page.getByRole('heading', { name: 'Who used my data' }).waitFor();
  check(await page.locator('html').getAttribute('lang') === 'en', 'lang attribute follows the switch');

  // keyboard: the skip link is the first stop from the top of a page (after
  // a route change focus is in <main>, so start from a fresh load)
  await page.reload();
  await page.waitForFunction(() => document.body.dataset.ready === '1');
  await page.keyboard.press('Tab');
  check(await page.evaluate(() => document.activeElement.className) === 'skip', 'skip link first in tab order');
  check(errors.length === 0, `no page errors: ${errors.join('; ')}`);
  await ctx.close();
});
