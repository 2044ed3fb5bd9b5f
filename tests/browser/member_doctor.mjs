// The results page shows what the examining doctor wrote (医師の判断,
// 医師の診断(判定) 9N511) above the table, and every questionnaire answer in
// the item table's own words: 喫煙 "2" is 以前は吸っていたが、最近1ヶ月間は
// 吸っていない, which the screen used to show as いいえ (it guessed yes/no
// from the digit).  A checkup institution sends a newer exam for an
// enrolled member as CSV, as real senders do; at 390 px and 1366 px.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run, check, login, MOBILE, PW } from './lib.js';

const DOCTOR = '9N511000000000049', SMOKE = '9N736000000000011';
const SAID = '血圧が高めです。３か月以内に医療機関を受診してください。';

run('member_doctor', async (env) => {
  const lines = readFileSync(join(env.pop, 'exams.csv'), 'utf8').trim().split('\n');
  const head = lines[0].split(',');
  const row = lines.slice(1).map((l) => l.split(',')).find((r) => r[head.indexOf('record_id')] === env.rids[0]);
  check(row, 'the enrolled member has a CSV row');
  const smoke = head.indexOf(SMOKE);
  check(smoke >= 0, 'the generator writes 喫煙');
  row[head.indexOf('record_id')] = `${env.rids[0]}-dr`;
  row[head.indexOf('exam_date')] = '2026-10-01';
  row[smoke] = '2';
  const file = join(env.data, '..', 'doctor.csv');
  writeFileSync(file, `${[...head, DOCTOR].join(',')}\n${[...row, SAID].join(',')}\n`);
  try { env.kb(['import', '--data', env.data, '--source', 'kenshin', file]); } catch (e) { if (e.status !== 3) throw e; }

  const ctx0 = await env.browser.newContext();
  const res = await ctx0.request.post(`${env.base}/api/enrol`, { data: { code: env.codes[0], username: 'dr-member', password: PW } });
  check(res.status() === 201, `enrol: ${res.status()}`);
  await ctx0.close();

  for (const viewport of [MOBILE, { viewport: { width: 1366, height: 900 }, locale: 'ja-JP' }]) {
    const ctx = await env.browser.newContext(viewport);
    const page = await ctx.newPage();
    await login(page, env.base, 'dr-member');
    await page.getByRole('heading', { name: '健診結果', level: 1 }).waitFor();
    const card = page.locator('#doctor');
    await card.waitFor();
    check((await card.getByRole('heading').textContent()) === '医師の判断', 'the card is titled 医師の判断');
    check((await card.textContent()).includes(SAID), `the doctor's words are shown: ${await card.textContent()}`);
    const smokeRow = page.locator('table.results tr', { has: page.locator('th', { hasText: '喫煙' }) }).first();
    const v = await smokeRow.locator('td').first().textContent();
    check(v.includes('以前は吸っていたが、最近1ヶ月間は吸っていない'), `喫煙 answer 2 in words, got "${v}"`);
    const api = await page.evaluate(async () => (await fetch('/api/me/results', { credentials: 'same-origin' })).json());
    const latest = api.exams.find((x) => x.exam_date === '2026-10-01');
    check(latest, 'the new exam is the member\'s');
    const s = latest.items.find((i) => i.code === SMOKE);
    check(s && s.answer === '以前は吸っていたが、最近1ヶ月間は吸っていない', `API answer: ${JSON.stringify(s)}`);
    await ctx.close();
  }
});
