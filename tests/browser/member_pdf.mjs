// 健診結果のお知らせ (issue 18): the results screen's PDF button downloads a
// letter the server makes with cairo and pango; its text, extracted with
// pdftotext (poppler-utils), is Japanese and carries, for the same exam,
// the date line, the two judgements, and every item's name, value and
// judgement as the screen shows them, in the screen's order; a previous
// year's letter is that year's exam.  The download is in the member's
// access log; without a session there is no letter.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run, check, login, PW, ROOT } from './lib.js';

const squash = (s) => s.replace(/\s+/g, '');

async function letter(page, dir, name) {
  const [dl] = await Promise.all([page.waitForEvent('download'), page.locator('#dl-pdf').click()]);
  const file = join(dir, name);
  await dl.saveAs(file);
  const head = execFileSync('head', ['-c', '5', file], { encoding: 'latin1' });
  check(head === '%PDF-', `${name} is a PDF (${JSON.stringify(head)})`);
  return { file, text: execFileSync('pdftotext', ['-enc', 'UTF-8', file, '-'], { encoding: 'utf8' }), suggested: dl.suggestedFilename() };
}

// What the screen shows for the exam on it: meta line, judgements, rows.
async function screen(page) {
  return page.evaluate(() => ({
    meta: document.querySelector('#main p.meta').textContent,
    judgements: [...document.querySelectorAll('.judge-label strong')].map((x) => x.textContent),
    rows: [...document.querySelectorAll('table.results tbody tr:not(.group)')].map((tr) => ({
      name: tr.querySelector('th').textContent,
      value: tr.querySelector('td.num .v').textContent,
      judgement: tr.querySelector('.badge')?.textContent || '',
    })),
  }));
}

function compare(where, pdf, s) {
  const flat = squash(pdf);
  check(/[\u3040-\u30ff\u4e00-\u9fff]/.test(pdf) && flat.includes('健診結果のお知らせ'), `${where}: not a Japanese letter: ${pdf.slice(0, 200)}`);
  check(flat.includes(squash(s.meta)), `${where}: date line "${s.meta}" missing`);
  for (const j of s.judgements) check(flat.includes(squash(j)), `${where}: judgement ${j} missing`);
  check(s.rows.length >= 10, `${where}: only ${s.rows.length} rows on screen`);
  let at = 0;
  for (const r of s.rows) {
    // name, value and judgement of one row, in that order, after the previous row
    const seq = [r.name, r.value, r.judgement].filter(Boolean).map(squash);
    let pos = at;
    for (const part of seq) {
      const i = flat.indexOf(part, pos);
      check(i >= 0, `${where}: "${part}" (row ${r.name}) not in the letter after position ${pos}`);
      pos = i + part.length;
    }
    at = flat.indexOf(squash(r.name), at) + 1;
  }
}

await run('member_pdf', async ({ browser, base, codes }) => {
  const dir = mkdtempSync(join(tmpdir(), 'kb-pdf-'));
  try {
    const anon = await browser.newContext();
    check((await anon.request.get(`${base}/api/me/results.pdf`)).status() === 401, 'a letter without a session');
    const ctx = await browser.newContext({ viewport: { width: 1366, height: 900 }, locale: 'ja-JP', acceptDownloads: true });
    const page = await ctx.newPage();
    check((await ctx.request.post(`${base}/api/enrol`, { data: { code: codes[0], username: 'pdf', password: PW } })).status() === 201, 'enrol');
    await login(page, base, 'pdf');
    await page.getByRole('heading', { name: '健診結果', level: 1 }).waitFor();
    const latest = await letter(page, dir, 'latest.pdf');
    compare('latest', latest.text, await screen(page));
    check(/^kenbank-results-\d{4}-\d{2}-\d{2}\.pdf$/.test(latest.suggested), `file name ${latest.suggested}`);
    // the letter's first page as a picture for the docs (pdftoppm, poppler-utils)
    if (process.env.KB_SCREENSHOTS === '1')
      execFileSync('pdftoppm', ['-png', '-r', '70', '-singlefile', latest.file, join(ROOT, 'docs', 'screenshots', 'member_results_pdf')]);

    // an earlier year: that year's exam, not the latest
    const years = await page.locator('#fy option').evaluateAll((o) => o.map((x) => x.value));
    check(years.length === 3, `three years (${years})`);
    await page.locator('#fy').selectOption(years[2]);
    await page.waitForFunction((y) => location.hash === `#/results/${y}`, years[2]);
    await page.locator('#dl-pdf').waitFor();
    const old = await letter(page, dir, 'old.pdf');
    const s = await screen(page);
    compare('earliest', old.text, s);
    check(squash(old.text) !== squash(latest.text), 'the earlier letter differs from the latest');

    const log = await page.evaluate(async () => (await fetch('/api/me/audit?who=self&limit=50')).json());
    check(log.entries.filter((x) => x.action === 'results.pdf').length === 2, 'both letters are in the access log');
    const bad = await page.evaluate(async () => (await fetch('/api/me/results.pdf?exam=abc')).status);
    check(bad === 400, `a bad exam id answered ${bad}`);
    await ctx.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
