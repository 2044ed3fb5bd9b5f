// Biobank storage and applications as issue 18 asked: a list of freezers,
// racks and boxes from the API (not the boxes this device happened to
// open), a 9 x 9 box map that fits a phone without cutting columns, a long
// title refused visibly (counted, never cut at 200), and data items chosen
// from the catalogue by their Japanese names, shown as names afterwards.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { run, check, login, shot, ROOT, PW, MOBILE } from './lib.js';

const K = process.env.KENBANK || join(ROOT, 'build', 'kenbank');
const call = (page, method, path, body) => page.evaluate(async ([m, p, b]) => {
  const me = await (await fetch('/api/me')).json();
  const r = await fetch(p, { method: m, headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': me.csrf }, body: b ? JSON.stringify(b) : undefined });
  return { status: r.status, body: await r.json().catch(() => null) };
}, [method, path, body]);

await run('biobank_storage', async ({ browser, base, data }) => {
  for (const [u, role, org] of [['bank', 'biobank', 'bank-1'], ['resa', 'researcher', 'uni-1']])
    execFileSync(K, ['user', 'add', '--data', data, '--username', u, '--role', role, '--org', org], { env: { ...process.env, KENBANK_PASSWORD: PW }, stdio: 'ignore' });
  const ctx = await browser.newContext(MOBILE);
  const page = await ctx.newPage();
  await login(page, base, 'bank');
  await page.getByRole('heading', { name: '試料の管理' }).waitFor();
  // set up through the API: two freezers, one still empty
  for (const [kind, body] of [['freezers', { name: 'F1', temperature: -80 }], ['freezers', { name: 'F2', temperature: -150 }],
    ['racks', { freezer: 'F1', name: 'R1' }], ['boxes', { freezer: 'F1', rack: 'R1', name: 'BOX9', rows: 9, cols: 9 }],
    ['boxes', { freezer: 'F1', rack: 'R1', name: 'BOX2', rows: 2, cols: 3 }]]) {
    const r = await call(page, 'POST', `/api/biobank/storage/${kind}`, body);
    check(r.status === 201, `${kind} ${body.name}: ${r.status} ${JSON.stringify(r.body)}`);
  }
  const tree = (await call(page, 'GET', '/api/biobank/storage')).body;
  check(tree.freezers.length === 2 && tree.freezers[0].racks[0].boxes.map((b) => `${b.name}:${b.rows}x${b.cols}:${b.used}`).join() === 'BOX2:2x3:0,BOX9:9x9:0'
    && tree.freezers[1].racks.length === 0, `storage tree: ${JSON.stringify(tree)}`);

  await page.goto(`${base}/#/bb-storage`);
  const list = page.locator('#storage-list');
  await list.getByText('フリーザー F2（-150℃）').waitFor();
  check(/ラックはまだありません/.test(await list.innerText()), 'an empty freezer is listed as such');
  await list.getByRole('button', { name: /保管箱 BOX9：9行×9列、81か所中 0か所を使用/ }).click();
  await page.locator('table.box-grid[data-box="BOX9"]').waitFor();
  // all nine columns inside the phone's width: nothing cut at column 4
  const vw = await page.evaluate(() => document.documentElement.clientWidth);
  const right = await page.locator('table.box-grid [data-pos="A9"]').evaluate((e) => e.getBoundingClientRect().right);
  check(right <= vw, `column 9 ends at ${right} px, past the ${vw} px screen`);
  const tap = await page.locator('table.box-grid [data-pos="A1"]').evaluate((e) => { const r = e.getBoundingClientRect(); return [r.width, r.height]; });
  check(tap[0] >= 24 && tap[1] >= 44, `positions stay tappable: ${tap}`);
  await shot(page, 'biobank_storage_phone');
  await ctx.close();

  // researcher: title counted and refused past 200; items by name
  const rc = await browser.newContext(MOBILE);
  const res = await rc.newPage();
  await login(res, base, 'resa');
  await res.getByRole('heading', { name: '私の利用申請' }).waitFor();
  await res.goto(`${base}/#/bb-apply`);
  const f = res.locator('#apply-form');
  const long = '糖'.repeat(201);
  await f.getByLabel('研究課題名').fill(long);
  check((await f.getByLabel('研究課題名').inputValue()).length === 201, 'the title is not cut while typing');
  check((await res.locator('#ap-title-count').innerText()).includes('201 / 200'), 'the count is shown');
  await f.getByLabel('研究責任者').fill('試験 太郎');
  await f.getByLabel('研究計画書の番号').fill('IRB-1');
  await f.getByRole('checkbox', { name: 'HbA1c' }).check();
  await f.getByRole('checkbox', { name: '収縮期血圧' }).check();
  await f.getByRole('button', { name: '申請する' }).click();
  check(await f.getByLabel('研究課題名').evaluate((e) => !e.validity.valid && /200 文字以内/.test(e.validationMessage)), 'the form refuses 201 characters, saying why');
  check(/#\/bb-apply$/.test(res.url()), 'nothing was submitted');
  // the server refuses it too, by code
  const api = await call(res, 'POST', '/api/biobank/applications', { title: long, pi: 'x', organisation: 'uni-1', protocol: 'p', purpose: 'academic_research', specimens: 'serum:1' });
  check(api.status === 400 && api.body.error === 'field_too_long', `server on 201 characters: ${JSON.stringify(api)}`);
  // 200 Japanese characters (600 bytes) are accepted whole
  await f.getByLabel('研究課題名').fill('糖'.repeat(200));
  await f.getByRole('button', { name: '申請する' }).click();
  await res.waitForURL(/#\/bb-mine\/\d+$/);
  const id = Number(res.url().match(/(\d+)$/)[1]);
  const app = (await call(res, 'GET', `/api/biobank/applications/${id}`)).body;
  check(app.title === '糖'.repeat(200), `title stored whole: ${[...app.title].length} characters`);
  check(app.data_items === 'sbp,hba1c' || app.data_items === 'hba1c,sbp', `items stored as catalogue keys: ${app.data_items}`);
  const detail = await res.locator('main').innerText();
  check(/収縮期血圧/.test(detail) && /HbA1c/.test(detail) && !/\bsbp\b|hba1c/.test(detail), 'items shown by their names');
  await rc.close();
}, { people: 40 });
