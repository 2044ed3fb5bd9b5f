// The member's results page explains every flagged item: an underweight
// member (BMI < 18.5: 低体重, range with both ends) and a member with an item
// at 保健指導判定値 both get plain-words advice for each item the API
// flags; the previous checkup's value is shown beside this one's, units are
// printed as kg/m² and mg/dL, and item names use full-width brackets.
// At 390 px and 1366 px, in Japanese.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { run, check, shot, login, MOBILE, PW } from './lib.js';

const BMI = '9N011000000000001', SBP = '9A751000000000001';

// Exams of people with three checkups, newest-but-one or newest, chosen by a
// predicate over the generator's CSV row; returns [record id, exam date].
function pick(pop, pred) {
  const lines = readFileSync(join(pop, 'exams.csv'), 'utf8').trim().split('\n');
  const head = lines[0].split(',');
  const rows = lines.slice(1).map((l) => Object.fromEntries(l.split(',').map((v, i) => [head[i], v])));
  const truth = new Map(readFileSync(join(pop, 'truth.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(',')).map(([, rid, p]) => [rid, p]));
  const count = new Map();
  for (const r of rows) count.set(truth.get(r.record_id), (count.get(truth.get(r.record_id)) || 0) + 1);
  const r = rows.filter((x) => count.get(truth.get(x.record_id)) >= 2 && pred(x)).sort((a, b) => a.record_id.localeCompare(b.record_id))[0];
  check(r, 'the demo population has a member for this case');
  return [r.record_id, r.exam_date];
}

async function enrol(browser, base, env, rid, user) {
  const code = env.kb(['enrol', '--data', env.data, '--source', 'kenshin', '--record-id', rid]).match(/[0-9A-Z]{4}(-[0-9A-Z]{4}){3}/)[0];
  const ctx = await browser.newContext();
  const res = await ctx.request.post(`${base}/api/enrol`, { data: { code, username: user, password: PW } });
  check(res.status() === 201, `enrol ${user}: ${res.status()}`);
  await ctx.close();
}

async function member(browser, base, user, viewport) {
  const ctx = await browser.newContext(viewport);
  const page = await ctx.newPage();
  await login(page, base, user);
  await page.getByRole('heading', { name: '健診結果', level: 1 }).waitFor();
  return { ctx, page };
}

// Every item the API flags (level 1 or 2) is listed with advice text.
async function everyFlaggedExplained(page, exam) {
  const flagged = exam.items.filter((i) => i.level >= 1);
  check(flagged.length > 0, `exam ${exam.exam_date} has flagged items`);
  for (const i of flagged) {
    const li = page.locator(`.ref-list li[data-key="${i.key}"]`);
    check(await li.count() >= 1, `flagged item ${i.key} (level ${i.level}) is listed`);
    const advice = (await li.first().locator('.advice').innerText()).trim();
    check(advice.length > 10, `flagged item ${i.key} has advice, got "${advice}"`);
  }
  return flagged;
}

async function openExam(page, api, date) {
  const x = api.exams.find((e) => e.exam_date === date);
  check(x, `exam of ${date} in /api/me/results`);
  await page.goto(page.url().replace(/#.*$/, `#/results/${x.fiscal_year}`));
  const [y, m, d] = x.exam_date.split('-').map(Number);
  await page.getByText(`受診日 ${y}年${m}月${d}日`).waitFor();
  return x;
}

await run('member_results_advice', async (env) => {
  const { browser, base, pop } = env;
  const [thinRid, thinDate] = pick(pop, (r) => r[BMI] !== '' && Number(r[BMI]) < 18.5);
  const [sbpRid, sbpDate] = pick(pop, (r) => Number(r[SBP]) >= 130 && Number(r[SBP]) < 140 && Number(r[BMI]) >= 18.5);
  await enrol(browser, base, env, thinRid, 'thin');
  await enrol(browser, base, env, sbpRid, 'guide');
  for (const viewport of [MOBILE, { viewport: { width: 1366, height: 900 }, locale: 'ja-JP' }]) {
    const w = viewport.viewport.width;
    // underweight
    let { ctx, page } = await member(browser, base, 'thin', viewport);
    let api = await page.evaluate(async () => (await fetch('/api/me/results')).json());
    let x = await openExam(page, api, thinDate);
    const bmi = x.items.find((i) => i.key === 'bmi');
    check(bmi && bmi.level === 1 && bmi.low === true, `API flags BMI ${bmi && bmi.value} as low: ${JSON.stringify(bmi)}`);
    const row = page.locator('tr[data-key="bmi"]');
    const text = await row.innerText();
    check(text.includes('低体重'), `BMI row says 低体重: ${text}`);
    check(text.includes('18.5 以上 25.0 未満'), `BMI range shows both ends: ${text}`);
    check(text.includes('kg/m²') && !text.includes('kg/m2'), `BMI unit printed kg/m²: ${text}`);
    await page.getByRole('heading', { name: '生活習慣の見直しをおすすめします' }).waitFor();
    const advice = await page.locator('.ref-list li[data-key="bmi"] .advice').innerText();
    check(advice.includes('低体重'), `underweight advice, got "${advice}"`);
    await everyFlaggedExplained(page, x);
    // the previous checkup's BMI is in the 前回値 column
    const before = api.exams.filter((e) => e.exam_date < x.exam_date).sort((a, b) => b.exam_date.localeCompare(a.exam_date))[0];
    const prev = page.locator('tr[data-key="bmi"] td.prev');
    const pb = before && before.items.find((i) => i.key === 'bmi');
    if (pb) check((await prev.innerText()).includes(pb.value.toFixed(1)), `前回値 ${pb.value}: ${await prev.innerText()}`);
    else check((await prev.innerText()).trim() === '—', 'no previous checkup: —');
    check(await page.locator('table.results thead th', { hasText: '前回値' }).count() === 1, '前回値 column');
    check((await prev.getAttribute('data-label')) === '前回値', '前回値 labelled on phones');
    const body = await page.locator('main').innerText();
    check(!/mg\/dl|kg\/m2|\(|\)/.test(body), `units and brackets printed properly: ${(body.match(/.{0,20}(mg\/dl|kg\/m2|\(|\)).{0,20}/) || [''])[0]}`);
    if (w > 390) await shot(page, `member_results_underweight_${w}`); // phone shots are 1 MB each
    await ctx.close();

    // an item at 保健指導判定値 (SBP 130-139)
    ({ ctx, page } = await member(browser, base, 'guide', viewport));
    api = await page.evaluate(async () => (await fetch('/api/me/results')).json());
    x = await openExam(page, api, sbpDate);
    check(x.items.some((i) => i.key === 'sbp' && i.level === 1), 'API: SBP at 保健指導判定値');
    const flagged = await everyFlaggedExplained(page, x);
    const sbpAdvice = await page.locator('.ref-list li[data-key="sbp"] .advice').innerText();
    check(sbpAdvice.includes('血圧'), `SBP advice: ${sbpAdvice}`);
    check((await page.locator('main').innerText()).includes('mg/dL'), 'mg/dL printed');
    console.log(`  ${w}px: underweight BMI ${bmi.value}; ${flagged.length} flagged items explained for the SBP member`);
    if (w > 390) await shot(page, `member_results_guidance_${w}`);
    await ctx.close();
  }
});
