// (issue 22) A member whose cancer screening said 要精密検査 sees the answer
// in words with a plain explanation, and the follow-up card telling them
// whether the 精密検査 result has arrived.  The screening comes as the
// synthetic lung document of tests/fixtures/screening, imported beside the
// generated population.  Mobile-sized, in Japanese.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { run, check, shot, MOBILE, PW, ROOT } from './lib.js';

const K = process.env.KENBANK || join(ROOT, 'build', 'kenbank');
const kb = (args) => execFileSync(K, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

await run('screening_portal', async ({ browser, base, data }) => {
  kb(['import', '--data', data, '--source', 'city', join(ROOT, 'tests', 'fixtures', 'screening', 'lung_primary.json')]);
  const code = kb(['enrol', '--data', data, '--source', 'city', '--record-id',
    'fhir-urn:uuid:6b1d7c1e-2f0a-4c55-9d3e-0b7a1e5c9f01']).match(/[0-9A-Z]{4}(-[0-9A-Z]{4}){3}/)[0];
  const ctx = await browser.newContext(MOBILE);
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error' && !/status of 401/.test(m.text())) errors.push(m.text()); });

  await page.goto(`${base}/#/enrol`);
  await page.getByLabel('登録コード').fill(code);
  await page.getByLabel('ユーザー名').fill('mihon');
  await page.getByLabel('パスワード', { exact: true }).fill(PW);
  await page.getByLabel('パスワード（確認）').fill(PW);
  await page.getByRole('button', { name: 'アカウントを作成する' }).click();
  await page.getByRole('heading', { name: '健診結果', level: 1 }).waitFor();

  // the 精密検査対象有無 row: the answer in words and what to do
  const row = page.locator('tr', { hasText: '肺がん検診の精密検査対象有無' });
  await row.waitFor();
  const text = await row.innerText();
  check(text.includes('要精密検査（肺がん疑い）'), `answer in words: ${text}`);
  check(text.includes('精密検査が必要です。'), `plain explanation: ${text}`);
  check(!/\b2\b/.test(text.replace(/\d{4}/g, '')), `no bare code: ${text}`);

  // the follow-up card: its state as the API says it today
  const api = await page.evaluate(async () => (await fetch('/api/me/results')).json());
  const f = api.screening_followup;
  check(f.length === 1 && f[0].screening === 'lung', `one lung case: ${JSON.stringify(f)}`);
  const card = page.locator('#followup');
  await card.getByRole('heading', { name: 'がん検診の精密検査' }).waitFor();
  const ct = await card.innerText();
  check(ct.includes('肺がん検診') && ct.includes(f[0].explanation), `follow-up card: ${ct}`);
  check(await card.locator(`li[data-state="${f[0].state}"]`).count() === 1, 'state marked');
  await shot(page, 'member_screening');
  check(errors.length === 0, `no page errors: ${errors.join('; ')}`);
});
