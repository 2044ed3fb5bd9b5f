// The specimen bank end to end in the browser: biobank staff set up a box
// and register four donors' serum (consent recorded through the API), move
// one in the box map; a researcher applies; staff screen; a reviewer passes
// the scientific and the ethics review; staff record the agreement, reserve
// and ship; the researcher returns results; the statistics count what was
// shipped.  Donor C withdraws before reservation and donor D between
// reservation and shipping: neither is shipped.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { run, check, shot, login, ROOT, PW, DESKTOP } from './lib.js';

const K = process.env.KENBANK || join(ROOT, 'build', 'kenbank');

// Record ids of four different people from the generated population.
function fourDonors(data) {
  const pop = join(dirname(data), 'pop');
  const exams = new Set(readFileSync(join(pop, 'exams.csv'), 'utf8').split('\n').slice(1).map((l) => l.split(',')[1]));
  const seen = new Set(), out = [];
  for (const l of readFileSync(join(pop, 'truth.csv'), 'utf8').split('\n').slice(1).sort()) {
    const [, rid, p] = l.split(',');
    if (!rid || !exams.has(rid) || seen.has(p)) continue;
    seen.add(p);
    out.push(rid);
    if (out.length === 4) break;
  }
  return out;
}

// Every text on the page comes from the catalogue: no raw key, no "null".
async function clean(page, where) {
  const text = await page.locator('main').innerText();
  check(!/\bbio\.[a-z]/.test(text) && !/\bnull\b|undefined/.test(text), `${where}: stray key or null on the page: ${text.slice(0, 400)}`);
}

// A JSON call from inside a logged-in page, with its CSRF token.
const call = (page, method, path, body) => page.evaluate(async ([m, p, b]) => {
  const me = await (await fetch('/api/me')).json();
  const r = await fetch(p, { method: m, headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': me.csrf }, body: b ? JSON.stringify(b) : undefined });
  return { status: r.status, body: await r.json().catch(() => null) };
}, [method, path, body]);

await run('biobank_flow', async ({ browser, base, data }) => {
  for (const [u, role, org] of [['bank', 'biobank', 'bank-1'], ['resa', 'researcher', 'uni-1'], ['resb', 'researcher', 'uni-2'], ['revw', 'reviewer', 'irb-1']])
    execFileSync(K, ['user', 'add', '--data', data, '--username', u, '--role', role, '--org', org], { env: { ...process.env, KENBANK_PASSWORD: PW }, stdio: 'ignore' });
  const records = fourDonors(data);
  check(records.length === 4, 'four people in the population');

  // ---- biobank staff: storage and specimens ----
  const staffCtx = await browser.newContext(DESKTOP);
  const staff = await staffCtx.newPage();
  await login(staff, base, 'bank');
  await staff.getByRole('heading', { name: '試料の管理' }).waitFor();
  await staff.getByRole('link', { name: '保管場所' }).click();
  await staff.getByRole('heading', { name: '保管場所', level: 1 }).waitFor();
  const fz = staff.locator('#new-freezer');
  await fz.getByLabel('フリーザー名').fill('F1');
  await fz.getByLabel('設定温度（℃）').fill('-80');
  await fz.getByRole('button', { name: 'フリーザーを追加' }).click();
  await fz.getByText('F1 を追加しました。').waitFor();
  const rk = staff.locator('#new-rack');
  await rk.getByLabel('フリーザー名').fill('F1');
  await rk.getByLabel('ラック名').fill('R1');
  await rk.getByRole('button', { name: 'ラックを追加' }).click();
  await rk.getByText('R1 を追加しました。').waitFor();
  const bx = staff.locator('#new-box');
  await bx.getByLabel('フリーザー名').fill('F1');
  await bx.getByLabel('ラック名').fill('R1');
  await bx.getByLabel('保管箱名').fill('BOX1');
  await bx.getByLabel('行数').fill('2');
  await bx.getByLabel('列数').fill('3');
  await bx.getByRole('button', { name: '保管箱を追加' }).click();
  await staff.locator('table.box-grid[data-box="BOX1"]').waitFor();
  check(await staff.locator('.box-grid .pos-free').count() === 6, 'a new 2 x 3 box has six free positions');

  await staff.getByRole('link', { name: '試料', exact: true }).click();
  await staff.getByRole('heading', { name: '試料の登録' }).waitFor();
  const reg = staff.locator('#sp-register');
  // A SPREC code that breaks the rules is refused with the position named.
  await reg.getByLabel('送信元').fill('kenshin');
  await reg.getByLabel('記録ID').fill(records[0]);
  await reg.getByLabel('SPREC コード').fill('SER-SST-Y-D-N-A-E');
  await reg.getByRole('button', { name: '登録する' }).click();
  // shown as the catalogue's text for the API's code, not the English detail
  const refusal = await reg.getByRole('alert').innerText();
  const code = await reg.getByRole('alert').getAttribute('data-error');
  check(code === 'bad_request' && refusal.includes('入力内容に誤りがあります') && !/sprec|position/.test(refusal), `bad SPREC refused in Japanese: ${code} ${refusal}`);
  const spec = [];
  const positions = ['A1', 'A2', 'A3', 'B1'];
  for (let i = 0; i < 4; i++) {
    await reg.getByLabel('送信元').fill('kenshin');
    await reg.getByLabel('記録ID').fill(records[i]);
    await reg.getByLabel('試料の種類').selectOption('serum');
    await reg.getByLabel('量').fill('1.5');
    await reg.getByLabel('単位').selectOption('mL');
    await reg.getByLabel('SPREC コード').fill('SER-SST-A-D-N-A-E');
    await reg.getByLabel('保管箱').fill('BOX1');
    await reg.getByLabel('位置').fill(positions[i]);
    await reg.getByRole('button', { name: '登録する' }).click();
    const prev = spec.length ? spec[spec.length - 1].barcode : '';
    await staff.waitForFunction((p) => { const x = document.querySelector('#sp-detail .bb-detail'); return x && x.dataset.barcode !== p; }, prev);
    await reg.locator('.alert-ok').waitFor();
    const d = staff.locator('#sp-detail .bb-detail');
    await d.waitFor();
    const barcode = await d.getAttribute('data-barcode');
    check(!spec.some((s) => s.barcode === barcode), `a new barcode for specimen ${i}`);
    const donor = await d.getAttribute('data-donor');
    check(/^R/.test(donor), `donor by pseudonym: ${donor}`);
    const dt = await d.innerText();
    check(dt.includes(`BOX1 ${positions[i]}`), `specimen ${i} placed at ${positions[i]}: ${dt}`);
    spec.push({ barcode, donor });
  }
  check(new Set(spec.map((s) => s.donor)).size === 4, 'four donors');
  const [A, B, C, D] = spec;
  // Consent taken on paper at collection, recorded through the API.
  for (const s of spec) {
    const r = await call(staff, 'POST', '/api/biobank/consents', { donor: s.donor, purpose: 'academic_research', granted: true });
    check(r.status === 201, `consent for ${s.donor}: ${r.status}`);
  }
  // The list finds them.
  await staff.getByLabel('試料の種類').first().selectOption('serum');
  await staff.getByRole('button', { name: '検索する' }).click();
  await staff.locator(`#sp-table tr[data-barcode="${D.barcode}"]`).waitFor();
  check(await staff.locator('#sp-table tbody tr').count() === 4, 'four serum specimens listed');

  // Box map: D moves from B1 to B3 by choosing the two positions.
  await staff.getByRole('link', { name: '保管場所' }).click();
  await staff.locator('table.box-grid[data-box="BOX1"]').waitFor();
  check(await staff.locator('.box-grid .pos-used').count() === 4, 'four occupied positions');
  await staff.getByRole('button', { name: `B1：${D.barcode}（使用中）` }).click();
  await staff.getByRole('button', { name: 'B3：空き' }).focus();
  await staff.keyboard.press('Enter'); // the map works from the keyboard
  check(await staff.locator('#place-form').getByLabel('バーコード').inputValue() === D.barcode, 'choosing an occupied position picks its specimen');
  await staff.locator('#place-form').getByRole('button', { name: 'この位置に置く' }).click();
  await staff.getByText(`${D.barcode} を BOX1 の B3 に置きました。`).waitFor();
  await staff.locator('button.pos-used[data-pos="B3"]').waitFor();
  check(await staff.locator('button.pos-free[data-pos="B1"]').count() === 1, 'B1 is free after the move');
  // An occupied position is refused.
  await staff.locator('#place-form').getByLabel('バーコード').fill(D.barcode);
  await staff.locator('#place-form').getByLabel('位置').fill('A1');
  await staff.locator('#place-form').getByRole('button', { name: 'この位置に置く' }).click();
  const occ = staff.getByRole('alert');
  check(await occ.getAttribute('data-error') === 'conflict' && !/occupied/.test(await occ.innerText()), `occupied position refused in Japanese: ${await occ.innerText()}`);
  await clean(staff, 'storage');
  await shot(staff, 'biobank_box_map');

  // ---- researcher applies ----
  const resCtx = await browser.newContext(DESKTOP);
  const res = await resCtx.newPage();
  await login(res, base, 'resa');
  await res.getByRole('heading', { name: '私の利用申請' }).waitFor();
  await res.getByRole('link', { name: '新しく申請する' }).click();
  const f = res.locator('#apply-form');
  await f.getByLabel('研究課題名').fill('血清バイオマーカーによる糖尿病発症予測');
  await f.getByLabel('研究責任者').fill('試験 太郎');
  check(await f.getByLabel('所属機関').inputValue() === 'uni-1', 'organisation defaults to the account');
  await f.getByLabel('研究計画書の番号').fill('IRB-2026-001');
  await f.getByLabel('利用目的').selectOption('academic_research');
  await f.getByLabel('試料の種類 1').selectOption('serum');
  await f.getByLabel('本数 1').fill('4');
  await f.getByRole('checkbox', { name: 'HbA1c' }).check();
  await f.getByRole('checkbox', { name: 'BMI' }).check();
  await f.getByRole('button', { name: '申請する' }).click();
  await res.waitForURL(/#\/bb-mine\/\d+$/);
  const appId = Number(res.url().match(/(\d+)$/)[1]);
  await res.locator('#app-state [data-state="submitted"]').waitFor();
  const other = await browser.newContext(DESKTOP);
  const ob = await other.newPage();
  await login(ob, base, 'resb');
  await ob.getByRole('heading', { name: '私の利用申請' }).waitFor();
  check((await call(ob, 'GET', `/api/biobank/applications/${appId}`)).status === 404, "another researcher cannot see the application");
  check(await ob.getByText('まだ申請はありません。').count() === 1, "another researcher's list is empty");
  await other.close();

  // ---- staff screen ----
  const state = async (page, s) => page.locator(`#app-state [data-state="${s}"]`).waitFor();
  await staff.getByRole('link', { name: '利用申請' }).click();
  await staff.locator(`#app-table tr[data-app="${appId}"]`).getByRole('link').click();
  await state(staff, 'submitted');
  check(await staff.getByRole('button', { name: '同意のある試料を確保する' }).count() === 0, 'no reservation before approval');
  await clean(staff, 'staff queue');
  await staff.getByRole('button', { name: '事務局確認を始める' }).click();
  await state(staff, 'screening');
  await staff.getByLabel('コメント（任意・履歴に残ります）').fill('書類に不備なし');
  await staff.getByRole('button', { name: '研究計画審査へ回す' }).click();
  await state(staff, 'scientific_review');

  // ---- reviewer: scientific, then ethics ----
  const revCtx = await browser.newContext(DESKTOP);
  const rev = await revCtx.newPage();
  await login(rev, base, 'revw');
  await rev.getByRole('link', { name: '審査', exact: true }).click();
  await rev.getByRole('heading', { name: '審査待ち（1件）' }).waitFor();
  await rev.locator(`#app-table tr[data-app="${appId}"]`).getByRole('link').click();
  for (const [stage, next] of [['scientific_review', 'ethics_review'], ['ethics_review', 'approved']]) {
    await state(rev, stage);
    await rev.getByRole('radio', { name: '承認', exact: true }).check();
    await rev.getByLabel('審査コメント').fill(stage === 'ethics_review' ? '倫理的配慮は十分' : '計画は妥当');
    await rev.getByRole('button', { name: '判定を登録する' }).click();
    await state(rev, next);
  }
  check(await rev.locator('#review-table tbody tr').count() === 2, 'both reviews in the record');
  check(await rev.getByRole('button', { name: '発送する' }).count() === 0, 'a reviewer cannot ship');
  await revCtx.close();

  // ---- staff: agreement, reserve (C withdrew), ship (D withdrew) ----
  await staff.reload();
  await state(staff, 'approved');
  await staff.getByRole('button', { name: '契約締結を記録する' }).click();
  await state(staff, 'agreement_signed');
  check((await call(staff, 'POST', '/api/biobank/consents', { donor: C.donor, purpose: 'academic_research', granted: false })).status === 201, 'C withdraws');
  await staff.getByRole('button', { name: '同意のある試料を確保する' }).click();
  await state(staff, 'reserved');
  await staff.locator(`#dist-table tr[data-barcode="${A.barcode}"]`).waitFor();
  const reservedRows = await staff.locator('#dist-table tbody tr').evaluateAll((rs) => rs.map((r) => r.dataset.barcode));
  check(reservedRows.length === 3 && !reservedRows.includes(C.barcode), `reserved A, B, D and not C: ${reservedRows}`);
  check((await call(staff, 'POST', '/api/biobank/consents', { donor: D.donor, purpose: 'academic_research', granted: false })).status === 201, 'D withdraws');
  await staff.getByRole('button', { name: '発送する' }).click();
  await state(staff, 'distributed');
  const shipped = await staff.locator('#dist-table tr[data-state="shipped"]').evaluateAll((rs) => rs.map((r) => r.dataset.barcode));
  check(shipped.length === 2 && shipped.includes(A.barcode) && shipped.includes(B.barcode), `shipped A and B: ${shipped}`);
  check(!shipped.includes(C.barcode) && !shipped.includes(D.barcode), 'no withdrawn donor shipped');
  check(await staff.locator(`#dist-table tr[data-barcode="${D.barcode}"][data-state="released"]`).count() === 1, 'D released at shipping');
  const sD = (await call(staff, 'GET', `/api/biobank/specimens/${D.barcode}`)).body;
  const sA = (await call(staff, 'GET', `/api/biobank/specimens/${A.barcode}`)).body;
  check(sD.status === 'available' && sA.status === 'distributed' && !sA.position, `D back on the shelf, A gone: ${sD.status} ${sA.status}`);

  // ---- researcher returns results ----
  await res.reload();
  await state(res, 'distributed');
  await res.getByLabel('結果（1行に1件）').fill(`${A.barcode},3D046000001906202,5.4,%\n${B.barcode},3D046000001906202,6.1,%`);
  await res.getByRole('button', { name: '結果を報告する' }).click();
  await state(res, 'results_returned');
  const hist = await res.locator('#history-table tbody tr').allInnerTexts();
  check(hist.length >= 9 && hist.some((l) => l.includes('書類に不備なし')), `history with comments: ${hist.length} rows`);
  check(await res.getByRole('button', { name: '発送する' }).count() === 0, 'a researcher cannot ship');
  await clean(res, 'application');
  await shot(res, 'biobank_application');
  await resCtx.close();

  // ---- statistics ----
  await staff.getByRole('link', { name: '統計' }).click();
  await staff.getByRole('heading', { name: 'バイオバンク統計' }).waitFor();
  const api = (await call(staff, 'GET', '/api/biobank/stats')).body;
  check(api.provided.length === 1 && api.provided[0].type === 'serum' && api.provided[0].count === 2, `API: two serum provided ${JSON.stringify(api.provided)}`);
  const fy = api.provided[0].fiscal_year;
  const cellText = (await staff.locator(`#stats-provided tr[data-type="serum"] td[data-fy="${fy}"]`).innerText()).trim();
  check(cellText === '2', `page shows 2 serum in FY${fy}: ${cellText}`);
  check((await staff.locator('#stats-provided thead').innerText()).includes(`${fy}年度`), 'fiscal year heading');
  check((await staff.locator('#stats-states tr[data-state="results_returned"] td').innerText()).trim() === '1', 'one application with results returned');
  check((await staff.locator('[data-kpi="provided"] .kpi-value').innerText()).trim() === '2', 'KPI provided');
  await clean(staff, 'stats');
  await shot(staff, 'biobank_stats');
  // English switch.
  await staff.getByLabel('表示言語').selectOption('en');
  await staff.getByRole('heading', { name: 'Biobank statistics' }).waitFor();
  check((await staff.locator('#stats-provided tr[data-type="serum"] th').innerText()).trim() === 'Serum', 'English type name');
  await staffCtx.close();
});
