// 同意の管理 (issue 18): sharing picks a provider from the list the server
// gives (a <select>, no free text); the server refuses a provider not on
// it with the code unknown_provider, and a 1,200-character id neither goes
// in nor widens the page; a paper consent the checkup desk sent once per
// checkup record (three records, three years) shows once, as 紙, and web
// ones as ウェブ (Paper / Web in English); withdrawing asks first, says what
// it changes, and "やめる" changes nothing.  At 390 px and 1366 px.
import { writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { run, check, login, shot, MOBILE, PW } from './lib.js';

const LONG_ORG = 'kenko-support-center-minami-kanagawa-branch-0001'; // a long id must wrap, not widen

function recordsOf(pop, rid) {
  const truth = readFileSync(join(pop, 'truth.csv'), 'utf8').split('\n').slice(1).map((l) => l.split(','));
  const exams = new Set(readFileSync(join(pop, 'exams.csv'), 'utf8').split('\n').slice(1).map((l) => l.split(',')[1]));
  const person = truth.find((r) => r[1] === rid)[2];
  return truth.filter((r) => r[2] === person && exams.has(r[1])).map((r) => r[1]);
}

const pageWidth = (page) => page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);

await run('member_consent', async ({ browser, base, codes, rids, data, pop, kb }) => {
  for (const [u, org] of [['prov1', 'clinic-higashi'], ['prov2', LONG_ORG]])
    kb(['user', 'add', '--data', data, '--username', u, '--role', 'provider', '--org', org], { KENBANK_PASSWORD: PW });
  for (const [i, vp] of [MOBILE, { viewport: { width: 1366, height: 900 }, locale: 'ja-JP' }].entries()) {
    const w = vp.viewport.width;
    // the desk's paper form, sent once for each of the person's three checkup records
    const recs = recordsOf(pop, rids[i]);
    check(recs.length === 3, `${w}px: three records for the member (${recs.length})`);
    const csv = join(data, `paper${i}.csv`);
    writeFileSync(csv, ['source,record_id,purpose,provider,state,valid_from,valid_to,channel',
      ...recs.map((r) => `kenshin,${r},academic_research,,granted,2024-04-01,,paper`)].join('\n') + '\n');
    kb(['consent', 'import', '--data', data, '--by', 'checkup-desk', csv]);

    const ctx = await browser.newContext(vp);
    const page = await ctx.newPage();
    const r = await ctx.request.post(`${base}/api/enrol`, { data: { code: codes[i], username: `cons${w}`, password: PW } });
    check(r.status() === 201, `enrol: ${r.status()}`);
    await login(page, base, `cons${w}`);
    await page.getByRole('heading', { name: '健診結果', level: 1 }).waitFor();
    await page.locator('#nav').getByRole('link', { name: '同意の管理' }).click();
    await page.getByRole('heading', { name: '同意の管理', level: 1 }).waitFor();

    // one paper consent, once, in words
    const hist = page.locator('table.consent-history tbody tr');
    check(await hist.count() === 1, `${w}px: history rows ${await hist.count()} (the paper form once)`);
    check((await hist.first().locator('td').nth(3).innerText()) === '紙', `${w}px: channel "${await hist.first().locator('td').nth(3).innerText()}"`);
    check(!/\b(paper|web)\b/.test(await page.locator('main').innerText()), `${w}px: a raw channel code on screen`);

    // the provider is picked from the server's list, not typed
    const sel = page.getByLabel('提供先', { exact: true });
    check(await sel.evaluate((el) => el.tagName) === 'SELECT', `${w}px: the provider field is a list`);
    check(await page.locator('main input:not([type=hidden])').count() === 0, `${w}px: no free-text field on the consent screen`);
    const listed = (await sel.locator('option').allTextContents()).slice(1);
    const api = (await (await ctx.request.get(`${base}/api/me/providers`)).json()).providers;
    check(JSON.stringify(listed) === JSON.stringify(api) && api.includes('clinic-higashi') && api.includes(LONG_ORG), `${w}px: offered ${listed} vs server ${api}`);

    // the server refuses a provider not on its list, however it is sent
    const csrf = await page.evaluate(async () => (await (await fetch('/api/me')).json()).csrf);
    for (const bad of ['no-such-clinic', 'x'.repeat(1200)]) {
      const res = await ctx.request.post(`${base}/api/me/consents`, { headers: { 'X-CSRF-Token': csrf },
        data: { purpose: 'provider_sharing', provider: bad, granted: true } });
      check(res.status() === 400 && (await res.json()).error === 'unknown_provider', `${w}px: ${bad.slice(0, 20)}… answered ${res.status()}`);
    }
    await page.reload();
    await sel.waitFor();

    // share with the long-named provider; the page stays within the screen
    await sel.selectOption(LONG_ORG);
    await page.locator('section[data-purpose="provider_sharing"]').getByRole('button', { name: '同意する' }).click();
    const li = page.locator(`li[data-provider="${LONG_ORG}"]`);
    await li.locator('.badge-ok').waitFor();
    check(await pageWidth(page) <= 0, `${w}px: the page is ${await pageWidth(page)} px wider than the screen`);
    check((await hist.nth(0).locator('td').nth(3).innerText()) === 'ウェブ', `${w}px: web channel in words`);

    // withdrawing asks first and says what changes; やめる keeps the consent
    await li.getByRole('button', { name: '同意を撤回する' }).click();
    const box = page.getByRole('alertdialog');
    await box.waitFor();
    const said = await box.innerText();
    check(said.includes(LONG_ORG) && said.includes('見られなくなります') && said.includes('取り消せません'), `${w}px: confirmation says what changes: ${said}`);
    check(await li.locator('.badge-ok').count() === 1, `${w}px: nothing changed before confirming`);
    if (w === 390) await shot(page, 'member_consent_withdraw');
    await box.getByRole('button', { name: 'やめる' }).click();
    check(await box.count() === 0, `${w}px: the confirmation closes`);
    const mine = async () => (await (await ctx.request.get(`${base}/api/me/consents`)).json()).history;
    check((await mine()).at(-1).state === 'granted', `${w}px: やめる withdrew the consent`);
    await li.getByRole('button', { name: '同意を撤回する' }).click();
    await page.getByRole('alertdialog').getByRole('button', { name: '撤回する', exact: true }).click();
    await page.locator(`li[data-provider="${LONG_ORG}"] .badge-off`).waitFor();
    check((await mine()).at(-1).state === 'withdrawn', `${w}px: the withdrawal is recorded`);
    // a general purpose asks too, with its own explanation
    const acad = page.locator('section[data-purpose="academic_research"]');
    await acad.getByRole('button', { name: '同意を撤回する' }).click();
    check((await page.getByRole('alertdialog').innerText()).includes('この目的に使われなくなります'), `${w}px: general explanation`);
    await page.getByRole('alertdialog').getByRole('button', { name: '撤回する', exact: true }).click();
    await acad.locator('[data-state="not"]').waitFor();

    await page.locator('#lang').selectOption('en');
    await page.getByRole('heading', { name: /consent/i, level: 1 }).waitFor();
    const chans = await page.locator('table.consent-history tbody tr td:nth-child(4)').allTextContents();
    check(chans.includes('Paper') && chans.includes('Web') && chans.filter((c) => c === 'Paper').length === 1, `${w}px en channels: ${chans}`);
    await page.locator('#lang').selectOption('ja');
    await ctx.close();
  }
});
