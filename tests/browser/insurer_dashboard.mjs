// (b) The insurer dashboard loads, its numbers match the API, and cells
// under 10 are shown as suppressed.  Also drives the institution upload and
// the operator's audit verification.  Desktop-sized.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { run, check, shot, login, DESKTOP } from './lib.js';

await run('insurer_dashboard', async ({ browser, base, kb, data }) => {
  // the operator names the insurer's organisation code; the scope line says who
  kb(['user', 'org', '--data', data, '--org', 'kenshin', '--name', 'かながわ健康保険組合']);
  const ctx = await browser.newContext(DESKTOP);
  const page = await ctx.newPage();
  await login(page, base, 'insurer');
  await page.getByRole('heading', { name: '特定健診 集計ダッシュボード' }).waitFor();
  await page.locator('#dash-table tbody tr').first().waitFor();
  const api = await page.evaluate(async () => (await fetch('/api/insurer/dashboard')).json());
  check(api.years.length === 3, `3 fiscal years, got ${api.years.length}`);
  const show = (v) => (v === null ? '10未満' : Number(v).toLocaleString('ja-JP'));
  let suppressedSeen = 0;
  for (const y of api.years) {
    const row = page.locator(`#dash-table tr[data-fy="${y.fiscal_year}"]`);
    const cellOf = async (c) => (await row.locator(`td[data-col="${c}"]`).innerText()).trim();
    const want = { examinees: y.examinees, metabo1: y.metabo['1'], metabo2: y.metabo['2'], guidance1: y.guidance['1'], guidance2: y.guidance['2'], referrals: y.referrals };
    const p1 = (x) => (x * 100).toLocaleString('ja-JP', { minimumFractionDigits: 1, maximumFractionDigits: 1 });
    for (const [c, v] of Object.entries(want)) {
      const got = await cellOf(c);
      // counts other than examinees carry their share of the examinees
      const exp = c === 'examinees' || v === null ? show(v) : `${show(v)}（${p1(v / y.examinees)}%）`;
      check(got === exp, `FY${y.fiscal_year} ${c}: page ${got}, want ${exp}`);
      if (v === null) suppressedSeen++;
    }
    const part = await cellOf('participation');
    check(part === (y.participation === null ? '—' : `${(y.participation * 100).toFixed(1)}%`), `FY${y.fiscal_year} participation ${part} vs ${y.participation}`);
  }
  // The KPI is the newest year's examinees.
  const last = api.years[api.years.length - 1];
  check((await page.locator('[data-kpi="examinees"] .kpi-value').innerText()).trim() === show(last.examinees), 'KPI examinees');
  for (const id of ['c-part', 'c-metabo', 'c-guide', 'c-ref'])
    check(await page.evaluate((i) => !!(window.Chart && window.Chart.getChart(i)), id), `chart ${id} drawn`);
  // No count from 1 to 9 reaches the page.
  const texts = await page.locator('#dash-table td').allInnerTexts();
  check(!texts.some((s) => /^[1-9]$/.test(s.trim())), `a small cell is visible: ${texts.join(' ')}`);
  console.log(`suppressed cells on the page: ${suppressedSeen}`);
  // sex x age band of the newest year and 服薬/喫煙, against the API
  const sa = api.sex_age.filter((x) => x.fiscal_year === last.fiscal_year);
  check(sa.length >= 4 && sa.every((x) => [1, 2].includes(x.sex) && x.band >= 40 && x.band <= 70), `sex x age rows: ${JSON.stringify(sa.slice(0, 3))}`);
  check(await page.locator('#dash-sexage tbody tr').count() === sa.length, 'one row per sex and band');
  const big = sa.find((x) => x.examinees !== null && x.metabo !== null && x.metabo > 0);
  if (big) {
    const got = (await page.locator(`#dash-sexage tr[data-sa="${big.sex}-${big.band}"] td[data-col="metabo"]`).innerText()).trim();
    const p1 = (x) => (x * 100).toLocaleString('ja-JP', { minimumFractionDigits: 1, maximumFractionDigits: 1 });
    check(got === `${show(big.metabo)}（${p1(big.metabo / big.examinees)}%）`, `sex x age metabo cell: ${got}`);
  }
  check(sa.every((x) => ['examinees', 'metabo', 'guidance', 'referrals'].every((k) => x[k] === null || x[k] === 0 || x[k] >= 10)), 'no count 1..9 by sex and age');
  check(api.years.every((y) => ['med_bp', 'med_glucose', 'med_lipid', 'smoker'].every((k) => k in y.habits)), 'habits in every year');
  check(api.years.some((y) => (y.habits.smoker ?? 0) > 0 || y.habits.smoker === null), `somebody smokes: ${JSON.stringify(api.years.map((y) => y.habits))}`);
  check(/喫煙/.test(await page.locator('#dash-habits').innerText()), 'the habits table is shown');
  // the scope says what the number is: people counted once, not 延べ
  const scope = await page.locator('#dash-scope').innerText();
  check(!/延べ/.test(scope) && /実人数/.test(scope), `scope line: ${scope}`);
  check(scope.includes('かながわ健康保険組合（kenshin）'), `scope line names the organisation: ${scope}`);
  // CSV download: the table's figures, suppressed cells empty
  const [dl] = await Promise.all([page.waitForEvent('download'), page.locator('#dash-csv').click()]);
  const csv = readFileSync(await dl.path(), 'utf8').replace(/^\ufeff/, '').trim().split(/\r\n/).map((l) => l.split(','));
  check(csv[0][0] === '年度' && csv[0].includes('メタボ基準該当の割合'), `CSV header: ${csv[0]}`);
  for (const y of api.years) {
    const row = csv.find((r) => r[0] === String(y.fiscal_year));
    const col = (name) => row[csv[0].indexOf(name)];
    check(row && col('受診者数') === String(y.examinees ?? '') && col('メタボ基準該当') === String(y.metabo['1'] ?? ''), `CSV FY${y.fiscal_year}: ${row}`);
  }
  await shot(page, 'insurer_dashboard');

  await page.getByRole('link', { name: 'ポイント設定' }).click();
  const form = page.locator('form[data-rule="steps"]');
  await form.getByLabel('目標歩数（歩／日）').fill('7000');
  await form.getByRole('button', { name: '保存する' }).click();
  await page.getByText('保存しました。').waitFor();
  const rules = await page.evaluate(async () => (await fetch('/api/points/rules')).json());
  check(rules.rules.find((r) => r.rule === 'steps').threshold === 7000, 'step goal saved');
  await shot(page, 'insurer_rules');
  await ctx.close();

  // checkup institution: upload a CSV with one bad record
  const c2 = await browser.newContext(DESKTOP);
  const p2 = await c2.newPage();
  await login(p2, base, 'clinic');
  await p2.getByRole('heading', { name: '健診データの送信' }).waitFor();
  const H = 'source,record_id,exam_date,performer_org,insurer_no,insured_symbol,insured_number,branch_no,family_name,given_name,family_kana,given_kana,sex,birth_date,postal_code,address,9N001000000000001,9N006000000000001';
  const file = join(tmpdir(), `kb-upload-${process.pid}.csv`);
  writeFileSync(file, `${H}\nkenshin,web-1,2024-06-01,1410000001,06140019,AB,900,00,試験,一郎,シケン,イチロウ,1,1970-04-01,2310023,横浜市中区1,170.2,65.3\nkenshin,web-2,2024-02-30,1410000001,06140019,AB,901,00,試験,二郎,シケン,ジロウ,1,1971-04-01,2310023,横浜市中区1,171.0,66.0\n`);
  await p2.getByLabel('送信するファイル').setInputFiles(file);
  await p2.getByRole('button', { name: '送信する', exact: true }).click();
  await p2.getByText('取り込み完了：1件を受け付け、1件を保留しました。').waitFor();
  check(await p2.locator('#progress').evaluate((e) => e.value) === 100, 'progress at 100');
  await p2.locator('#quarantine').first().getByText('web-2').first().waitFor();
  await shot(p2, 'institution_upload');
  await c2.close();

  // operator: audit verification
  const c3 = await browser.newContext(DESKTOP);
  const p3 = await c3.newPage();
  await login(p3, base, 'admin');
  await p3.getByRole('button', { name: '監査ログを検証する' }).click();
  await p3.getByText(/監査ログは改ざんされていません/).waitFor();
  check(await p3.locator('#users tbody tr').count() >= 3, 'users listed');
  await shot(p3, 'operator');
  await c3.close();
});
