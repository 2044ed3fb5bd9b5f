// The operator's clerical review queue: pairs the linker could not decide
// are shown side by side with their differences marked; choosing 同一人物
// (same person) folds them into one, and the queue and the API agree.  The
// queue comes a page at a time with its total, and the pager moves through it.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { run, check, login, ROOT, DESKTOP } from './lib.js';

await run('operator_review', async ({ browser, base, data }) => {
  // more pairs than one page, so the pager has somewhere to go
  execFileSync('sqlite3', [join(data, 'identity.db'), `INSERT INTO review_queue (record_a, record_b, score, status, created_at)
    SELECT a.id, b.id, 3.0, 'pending', '2026-01-01T00:00:00.000Z' FROM person_records a JOIN person_records b ON b.id = a.id + 1
    WHERE a.id % 2 = 1 ORDER BY a.id LIMIT 25`]);
  const ctx = await browser.newContext(DESKTOP);
  const page = await ctx.newPage();
  await login(page, base, 'admin');
  await page.goto(`${base}/#/operator`);
  await page.getByRole('heading', { name: '名寄せの確認（同一人物の判定）' }).waitFor();
  const api = async () => page.evaluate(async () => (await fetch('/api/review')).json());
  const page0 = await api();
  const before = page0.pairs;
  check(before.length > 0, 'a noisy population leaves pairs to review');
  check(before.length <= 20 && page0.total >= before.length, `the API pages the queue: ${before.length} of ${page0.total}`);
  const sections = page.locator('section[data-review]');
  await sections.first().waitFor();
  check(await sections.count() === before.length, 'the first page of pending pairs is shown');
  check((await page.locator('#review-count').innerText()).includes(String(page0.total)), 'the total is shown');
  check(page0.total > before.length, `more pairs than one page: ${page0.total}`);
  {
    // the queue's weight as a share of all records (issue 16), counted here
    // from the store itself
    const [inReview, records] = execFileSync('sqlite3', [join(data, 'identity.db'),
      `SELECT (SELECT COUNT(*) FROM (SELECT record_a FROM review_queue WHERE status = 'pending'
         UNION SELECT record_b FROM review_queue WHERE status = 'pending')), (SELECT COUNT(*) FROM person_records)`])
      .toString().trim().split('|').map(Number);
    check(page0.records_in_review === inReview && page0.records === records,
      `the API counts ${page0.records_in_review} of ${page0.records} records in review, the store ${inReview} of ${records}`);
    const share = await page.locator('#review-share').innerText();
    const pct = (100 * inReview / records).toLocaleString('ja-JP', { minimumFractionDigits: 1, maximumFractionDigits: 1 });
    check(share.includes(`${pct}%`) && share.includes('確認待ちの記録'), `the share is shown: "${share}", want ${pct}%`);
  }
  {
    await page.locator('#review-next').click();
    await page.locator(`section[data-review="${before[0].id}"]`).waitFor({ state: 'detached' });
    const second = Number(await sections.first().getAttribute('data-review'));
    check(second > before[before.length - 1].id, 'the next page shows the following pairs');
    await page.locator('#review-prev').click();
    await page.locator(`section[data-review="${before[0].id}"]`).waitFor();
  }
  const first = sections.first();
  const id = Number(await first.getAttribute('data-review'));
  check(id === before[0].id, 'oldest pair first');
  check(await first.locator('tr.diff').count() > 0, 'differing fields are marked');
  check((await first.innerText()).includes('生年月日'), 'identity shown side by side');
  const sexRow = (await first.locator('tr', { hasText: '性別' }).innerText()).trim();
  check(/男性|女性/.test(sexRow) && !/\b[12]\b/.test(sexRow), `sex shown as a word, not its code: ${sexRow}`);
  if (process.env.KB_SCREENSHOTS === '1') await first.screenshot({ path: join(ROOT, 'docs', 'screenshots', 'operator_review.png') });
  // each side's checkup date, and the kanji name rows say why they are empty
  // (the MHLW XML carries the name in kana only) instead of staying blank
  const dateRow = (await first.locator('tr', { hasText: '受診日' }).innerText()).trim();
  check(/\d{4}年\d{1,2}月\d{1,2}日.*\d{4}年\d{1,2}月\d{1,2}日/s.test(dateRow), `exam dates on both sides: ${dateRow}`);
  check(before[0].records.every((r) => /^\d{4}-\d{2}-\d{2}$/.test(r.exam_date)), 'the API gives each record its exam date');
  for (const f of ['氏', '名']) {
    const cells = await first.locator('tbody tr').filter({ has: page.getByRole('rowheader', { name: f, exact: true }) }).locator('td').allInnerTexts();
    check(cells.length === 2 && cells.every((c) => c.trim().length > 0), `${f} row is not empty: ${JSON.stringify(cells)}`);
  }
  // 同一人物 asks first; cancelling changes nothing
  await first.getByRole('button', { name: '同一人物' }).click();
  await first.getByRole('alertdialog').waitFor();
  await first.getByRole('button', { name: 'やめる' }).click();
  check((await api()).total === page0.total, 'cancelled merge left the queue alone');
  await first.getByRole('button', { name: '同一人物' }).click();
  await first.getByRole('button', { name: '統合する' }).click();
  await page.locator(`section[data-review="${id}"]`).waitFor({ state: 'detached' });
  const after = await api();
  check(after.total === page0.total - 1 && !after.pairs.some((p) => p.id === id), 'the decided pair leaves the queue');
  const persons = () => execFileSync('sqlite3', [join(data, 'identity.db'),
    `SELECT COUNT(DISTINCT person_id) FROM person_records WHERE id IN (SELECT record_a FROM review_queue WHERE id = ${id} UNION SELECT record_b FROM review_queue WHERE id = ${id})`]).toString().trim();
  check(persons() === '1', 'accepted: one person');
  // and it can be undone: the split, two people again, audited
  await page.locator('#review-undo').click();
  await page.locator('#review-undo-bar').waitFor({ state: 'detached' });
  check(persons() === '2', 'undone: two people again');
  const st = execFileSync('sqlite3', [join(data, 'identity.db'), `SELECT status FROM review_queue WHERE id = ${id}`]).toString().trim();
  check(st === 'undone', `pair marked undone: ${st}`);
  // each page shown logs a read per person, so the decision is further back than 20 entries
  const audit = await page.evaluate(async () => (await fetch('/api/audit?limit=1000')).json());
  check(audit.entries.some((a) => a.action === 'linkage.review.accept'), 'the decision is audited');
  check(audit.entries.some((a) => a.action === 'linkage.review.undo'), 'the undo is audited');
  await ctx.close();
}, { people: 3000, noise: true });
