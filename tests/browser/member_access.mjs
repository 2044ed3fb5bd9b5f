// 利用履歴 (issue 18): uses by others come first -- the member's own page
// views are left out by default and counted in a note, one choice away --
// every action, actor and detail is in words (no `consent.import`, no
// `cli (運用管理者)`, no raw `granted`), and the log is paged by the server
// (20 a page, with the range and newer/older buttons).  At 390 px and
// 1366 px.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run, check, login, MOBILE, PW } from './lib.js';

const RAW = /\b[a-z_]+\.[a-z_.]+\b|\bcli\b|\b(granted|withdrawn|paper|provider_sharing|academic_research)\b/;

await run('member_access', async ({ browser, base, codes, rids, data, kb }) => {
  for (const [i, vp] of [MOBILE, { viewport: { width: 1366, height: 900 }, locale: 'ja-JP' }].entries()) {
    const w = vp.viewport.width;
    // uses by others (besides the enrolment code issued at set-up): the desk's paper consent (named) and one from the command line (no --by)
    const csv = join(data, `access${i}.csv`);
    writeFileSync(csv, `source,record_id,purpose,provider,state,valid_from,valid_to,channel\nkenshin,${rids[i]},recontact,,granted,2024-04-01,,paper\n`);
    kb(['consent', 'import', '--data', data, '--by', 'checkup-desk', csv]);
    writeFileSync(csv, `source,record_id,purpose,provider,state,valid_from,valid_to,channel\nkenshin,${rids[i]},recontact,,withdrawn,2024-04-01,,paper\n`);
    kb(['consent', 'import', '--data', data, csv]);

    const ctx = await browser.newContext(vp);
    const page = await ctx.newPage();
    const r = await ctx.request.post(`${base}/api/enrol`, { data: { code: codes[i], username: `acc${w}`, password: PW } });
    check(r.status() === 201, `enrol: ${r.status()}`);
    await login(page, base, `acc${w}`);
    await page.getByRole('heading', { name: '健診結果', level: 1 }).waitFor();
    // the member's own views: enough to need a second page
    await page.evaluate(async () => { for (let k = 0; k < 25; k++) await fetch('/api/me/points'); });

    await page.locator('#nav').getByRole('link', { name: '利用履歴' }).click();
    await page.getByRole('heading', { name: 'データの利用履歴', level: 1 }).waitFor();
    const rows = page.locator('table.access tbody tr');
    const counts = (await page.evaluate(async () => (await fetch('/api/me/audit?who=others&limit=1')).json())).counts;
    check(await rows.count() === counts.others && await page.locator('tr[data-action="consent.import"]').count() === 2,
      `${w}px: by default the uses by others, the desk's two among them (${await rows.count()} rows, ${counts.others} by others)`);
    for (const role of await rows.evaluateAll((tr) => tr.map((x) => x.dataset.role)))
      check(role !== 'individual', `${w}px: the member's own action shown by default`);
    const note = await page.locator('#self-hidden').innerText();
    check(/\d+件は表示していません/.test(note), `${w}px: the note counts the hidden own views: ${note}`);
    const main = await page.locator('main').innerText();
    const raw = main.match(RAW);
    check(!raw, `${w}px: raw code on screen: "${raw && raw[0]}"`);
    check(main.includes('紙の同意書を登録') && main.includes('運用管理者（コマンド操作）') && main.includes('運用管理者（checkup-desk）'), `${w}px: actions and actors in words: ${main.slice(0, 400)}`);
    check(main.includes('撤回（紙）') && main.includes('同意（紙）'), `${w}px: consent details in words`);

    // the member's own actions, paged by the server
    await page.getByLabel('表示する記録').selectOption('self');
    await page.locator('#access-range').waitFor();
    const api = await page.evaluate(async () => (await fetch('/api/me/audit?who=self&limit=20&offset=0')).json());
    check(api.total > 20 && api.entries.length === 20 && api.entries.every((x) => x.role === 'individual'), `${w}px: self page from the server: total ${api.total}, ${api.entries.length} rows`);
    check(await rows.count() === 20, `${w}px: 20 rows a page (${await rows.count()})`);
    check(await page.locator('[data-page="prev"]').isDisabled(), `${w}px: no newer page on the first`);
    await page.locator('[data-page="next"]').click();
    await page.waitForFunction(() => /21〜/.test(document.getElementById('access-range')?.textContent || ''));
    const [p1, p2] = await page.evaluate(async () => Promise.all([0, 20].map(async (o) => (await (await fetch(`/api/me/audit?who=self&limit=20&offset=${o}`)).json()).entries.map((x) => x.seq))));
    check(p2.length && Math.max(...p2) <= Math.min(...p1), `${w}px: the server's second page is older than the first`);
    check(await rows.count() >= 1 && await rows.count() <= 20, `${w}px: second page rows ${await rows.count()}`);
    check(!(await page.locator('main').innerText()).match(RAW), `${w}px: raw code on the second page`);
    await page.locator('[data-page="prev"]').click();
    await page.waitForFunction(() => /\s1〜20件目/.test(document.getElementById('access-range')?.textContent || ''));

    // the API: filters add up, a bad filter is refused
    const all = await page.evaluate(async () => (await fetch('/api/me/audit?who=all&limit=1')).json());
    const others = await page.evaluate(async () => (await fetch('/api/me/audit?who=others&limit=500')).json());
    check(all.total === all.counts.others + all.counts.self && others.entries.length === others.counts.others, `${w}px: counts add up`);
    check(others.entries.every((x) => x.role !== 'individual'), `${w}px: others holds no own actions`);
    const bad = await page.evaluate(async () => (await fetch('/api/me/audit?who=everyone')).status);
    check(bad === 400, `${w}px: unknown filter answered ${bad}`);
    await ctx.close();
  }
});
