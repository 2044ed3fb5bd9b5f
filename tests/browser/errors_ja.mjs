// Errors a person sees are Japanese text chosen by the API's stable error
// code, never the server's English message, SQL or paths: a wrong
// enrolment code, a biobank box name already in use (409 already_exists),
// and an unknown code from a failing endpoint (generic text plus the code).
// Also checks that every code the server sends has text in both catalogues.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { run, check, login, ROOT, MOBILE, PW } from './lib.js';

const ja = JSON.parse(readFileSync(join(ROOT, 'web/i18n/ja.json'), 'utf8'));
const en = JSON.parse(readFileSync(join(ROOT, 'web/i18n/en.json'), 'utf8'));
const LEAK = /UNIQUE|INSERT|SELECT|constraint|\/[a-z]+\/|\.db\b|enrolment:|field \w+:/i;

// Every literal code of kb_reply_error(r, STATUS, "code", ...) in src/server.
const codes = new Set();
for (const f of readdirSync(join(ROOT, 'src/server')).filter((n) => n.endsWith('.c')))
  for (const m of readFileSync(join(ROOT, 'src/server', f), 'utf8').matchAll(/kb_reply_error\([^,]+,[^,]+,\s*"([a-z_]+)"/g)) codes.add(m[1]);
check(codes.size > 20, `found the server's error codes (${codes.size})`);
for (const c of codes) {
  if (c === 'error') continue; // kb_h_bb_box's catch-all: the generic text applies
  check(ja.errors[c] && en.errors[c], `error code ${c} has text in ja.json and en.json`);
}

async function alertText(page) {
  const a = page.locator('[role="alert"]').first();
  await a.waitFor();
  return (await a.innerText()).trim();
}

await run('errors_ja', async ({ browser, base, kb, data }) => {
  kb(['user', 'add', '--data', data, '--username', 'bank', '--role', 'biobank', '--org', 'bank-1'], { KENBANK_PASSWORD: PW });
  for (const vp of [MOBILE, { viewport: { width: 1366, height: 900 }, locale: 'ja-JP' }]) {
    const w = vp.viewport.width;
    // a wrong enrolment code
    let ctx = await browser.newContext(vp);
    let page = await ctx.newPage();
    await page.goto(`${base}/#/enrol`);
    await page.getByLabel('登録コード').fill('AAAA-BBBB-CCCC-DDDD');
    await page.getByLabel('ユーザー名').fill(`nobody${w}`);
    await page.getByLabel('パスワード', { exact: true }).fill(PW);
    await page.getByLabel('パスワード（確認）').fill(PW);
    await page.getByRole('button', { name: 'アカウントを作成する' }).click();
    let text = await alertText(page);
    check(text.includes(ja.errors.enrolment_failed), `${w}px enrolment error in Japanese: ${text}`);
    check(!LEAK.test(text) && !/[A-Za-z]{4,}/.test(text), `${w}px enrolment error has no English or internals: ${text}`);

    // an unknown code with a leaky message from the server
    await page.route('**/api/me/results', (r) => r.fulfill({ status: 500, contentType: 'application/json',
      body: JSON.stringify({ error: 'weird_code', message: 'SELECT * FROM exams: /var/lib/kenbank/research.db' }) }));
    await page.route('**/api/me', (r) => r.fulfill({ status: 200, contentType: 'application/json',
      body: JSON.stringify({ username: 'x', role: 'individual', org: '', auth: 'password', csrf: 't' }) }));
    await page.goto(`${base}/#/results`);
    await page.reload(); // a new session check, now answered by the stub
    text = await alertText(page);
    check(text.includes('エラーが発生しました') && text.includes('weird_code'), `${w}px generic error names the code: ${text}`);
    check(!LEAK.test(text), `${w}px generic error shows no SQL or path: ${text}`);
    await ctx.close();

    // a box name already in use, through the storage screen
    ctx = await browser.newContext(vp);
    page = await ctx.newPage();
    await login(page, base, 'bank');
    await page.getByRole('heading', { name: '試料の管理' }).waitFor();
    await page.goto(`${base}/#/bb-storage`);
    await page.getByRole('heading', { name: '保管場所', level: 1 }).waitFor();
    const F = `F${w}`, R = 'R1', B = `BOX${w}`;
    const fz = page.locator('#new-freezer');
    await fz.getByLabel('フリーザー名').fill(F);
    await fz.getByLabel('設定温度（℃）').fill('-80');
    await fz.getByRole('button', { name: 'フリーザーを追加' }).click();
    await fz.getByText(`${F} を追加しました。`).waitFor();
    const rk = page.locator('#new-rack');
    await rk.getByLabel('フリーザー名').fill(F);
    await rk.getByLabel('ラック名').fill(R);
    await rk.getByRole('button', { name: 'ラックを追加' }).click();
    await rk.getByText(`${R} を追加しました。`).waitFor();
    const bx = page.locator('#new-box');
    for (let i = 0; i < 2; i++) {
      await bx.getByLabel('フリーザー名').fill(F);
      await bx.getByLabel('ラック名').fill(R);
      await bx.getByLabel('保管箱名').fill(B);
      await bx.getByLabel('行数').fill('2');
      await bx.getByLabel('列数').fill('3');
      await bx.getByRole('button', { name: '保管箱を追加' }).click();
      if (i === 0) await bx.getByText(`${B} を追加しました。`).waitFor();
    }
    const dup = bx.locator('[role="alert"][data-error="already_exists"]');
    await dup.waitFor();
    text = (await dup.innerText()).trim();
    check(text === ja.errors.already_exists, `${w}px duplicate box name: ${text}`);
    check(!LEAK.test(text), `${w}px duplicate box shows no SQL: ${text}`);
    await ctx.close();
  }
});
