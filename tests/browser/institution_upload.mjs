// The checkup institution's upload screen as a sender uses it: a garbage
// file is refused with its reason in Japanese; the same file sent again is
// "already imported", not "0 accepted"; every problem of a record is listed
// with the item's Japanese name and a Japanese reason (never the English
// rule or an XPath); history and the standing quarantine follow each
// upload; a quarantined record is re-sent corrected (and imported), and
// another is discarded after a confirmation yet kept on the server.
import { writeFileSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { execFileSync } from 'node:child_process';
import { run, check, login, shot, ROOT, MOBILE } from './lib.js';

const K = process.env.KENBANK || join(ROOT, 'build', 'kenbank');
const H = 'source,record_id,exam_date,performer_org,insurer_no,insured_symbol,insured_number,branch_no,family_name,given_name,family_kana,given_kana,sex,birth_date,postal_code,address,9N001000000000001,9N006000000000001';
const row = (id, date, weight) => `kenshin,${id},${date},1410000001,06140019,AB,9${id.slice(-2)},00,試験,一郎,シケン,イチロウ,1,1970-04-01,2310023,横浜市中区1,170.2,${weight}`;
const ENGLISH = /\b(error|failed|invalid|unknown|missing|not a date|expected|outside|plausible|rule|YYYY|@value|birthTime|null|undefined)\b/i;

await run('institution_upload', async ({ browser, base, data }) => {
  const files = [];
  const put = (name, text) => { const f = join(tmpdir(), `kb-${process.pid}-${name}`); writeFileSync(f, text); files.push(f); return f; };
  try {
    const ctx = await browser.newContext(MOBILE);
    const page = await ctx.newPage();
    await login(page, base, 'clinic');
    await page.getByRole('heading', { name: '健診データの送信' }).waitFor();
    const send = async (f) => {
      await page.getByLabel('送信するファイル').setInputFiles(f);
      await page.getByRole('button', { name: '送信する', exact: true }).click();
      await page.locator('#upload-status').filter({ hasText: /取り込(み完了|み済み|めませんでした)|このファイルは/ }).waitFor();
      return page.locator('#upload-status').innerText();
    };

    // 1. garbage: the reason, by code, in Japanese
    const s1 = await send(put('junk.zip', 'this is not a zip archive at all'));
    check(/取り込めませんでした/.test(s1), `garbage status: ${s1}`);
    const reason = await page.locator('#upload-reason').innerText();
    check(/ZIP ファイルとして読み取れません/.test(reason), `garbage reason: ${reason}`);
    check(!ENGLISH.test(await page.locator('#main').innerText()), 'English on the failed upload');

    // 2. one record with two problems (impossible date, weight of 999 kg)
    const bad = put('two.csv', `${H}\n${row('web-01', '2024-06-01', '65.0')}\n${row('web-02', '2024-02-30', '999')}\n${row('web-03', '2024-06-03', '1200')}\n`);
    const s2 = await send(bad);
    check(/1件を受け付け、2件を保留/.test(s2), `two.csv status: ${s2}`);
    // history and the standing quarantine refreshed without a reload
    await page.locator('#upload-history tbody tr').filter({ hasText: 'two.csv' }).first().waitFor();
    const rec = page.locator('#quarantine tbody tr').filter({ hasText: 'web-02' });
    await rec.waitFor();
    const problems = await rec.locator('ul.problems li').allInnerTexts();
    check(problems.length === 2, `every problem of web-02 listed: ${JSON.stringify(problems)}`);
    check(problems.some((p) => /^受診日：日付として正しくありません/.test(p)), `exam date problem: ${problems}`);
    check(problems.some((p) => /^体重：値がありえない範囲です/.test(p)), `weight problem by its item name: ${problems}`);
    check(!ENGLISH.test(await page.locator('#main').innerText()), `English or raw rules on screen: ${(await page.locator('#main').innerText()).match(new RegExp(`.{0,40}${ENGLISH.source}.{0,40}`, 'i'))}`);

    // 3. the same file again: already imported, not "0 accepted"
    const s3 = await send(bad);
    check(/取り込み済み/.test(s3) && !/0件を受け付け/.test(s3), `re-sent file: ${s3}`);
    await page.locator('#upload-history tbody tr').filter({ hasText: '取り込み済み' }).first().waitFor();

    // 4. re-send web-02 corrected: imported, gone from the list
    await rec.locator('input[type=file]').setInputFiles(put('fix.csv', `${H}\n${row('web-02', '2024-02-28', '66.0')}\n`));
    await page.locator('#quarantine tbody tr').filter({ hasText: 'web-02' }).waitFor({ state: 'detached' });
    const exams = execFileSync(K, ['quarantine', 'list', '--data', data, '--all'], { encoding: 'utf8' });
    check(/,resolved,kenshin,[^\n]*,web-02,/.test(exams), `web-02 resolved after the re-send: ${exams}`);

    // 5. discard web-03: asks first, then closes it; the entry is kept
    const r3 = page.locator('#quarantine tbody tr').filter({ hasText: 'web-03' });
    await r3.getByRole('button', { name: '破棄' }).click();
    await r3.getByRole('alertdialog').waitFor();
    await r3.getByRole('button', { name: 'やめる' }).click();
    check(await r3.count() === 1, 'cancel keeps the record');
    await r3.getByRole('button', { name: '破棄' }).click();
    await shot(page, 'institution_upload_discard');
    await r3.getByRole('button', { name: '破棄する' }).click();
    await page.locator('#quarantine tbody tr').filter({ hasText: 'web-03' }).waitFor({ state: 'detached' });
    const all = execFileSync(K, ['quarantine', 'list', '--data', data, '--all'], { encoding: 'utf8' });
    check(/,discarded,kenshin,[^\n]*,web-03,/.test(all), `web-03 kept as discarded: ${all}`);
    const audit = execFileSync(K, ['audit', 'list', '--data', data], { encoding: 'utf8' });
    check(/quarantine\.discard/.test(audit) && /quarantine\.retry/.test(audit), 'discard and retry audited');
    await shot(page, 'institution_upload');
    await ctx.close();

    // every reason code the server can give has Japanese and English text
    const src = readFileSync(join(ROOT, 'src', 'ingest', 'quarantine.c'), 'utf8');
    const list = src.slice(src.indexOf('kb_quarantine_codes[] = {'), src.indexOf('NULL};'));
    const codes = [...list.matchAll(/"([a-z_]+)"/g)].map((m) => m[1]);
    check(codes.length > 10 && codes.includes('bad_date'), `codes read from quarantine.c: ${codes}`);
    for (const lang of ['ja', 'en']) {
      const cat = JSON.parse(readFileSync(join(ROOT, 'web', 'i18n', `${lang}.json`), 'utf8'));
      for (const c of codes)
        check(cat.upload.reason[c], `${lang}: upload.reason.${c} has no text`);
    }
  } finally {
    for (const f of files) rmSync(f, { force: true });
  }
});
