// 日々の記録: the diastolic field shows only for blood pressure; a value left
// in it (even out of range) does not block saving steps; the toast names the
// points the reading earned (10 for a step day, not the number of awards);
// an error goes away once the member changes the kind or saves again.
// At 390 px and 1366 px, in Japanese.
import { run, check, login, MOBILE, PW } from './lib.js';

const balance = (page) => page.evaluate(async () => (await (await fetch('/api/me/points')).json()).balance);

await run('member_records', async ({ browser, base, codes }) => {
  let day = 1;
  for (const [i, vp] of [MOBILE, { viewport: { width: 1366, height: 900 }, locale: 'ja-JP' }].entries()) {
    const w = vp.viewport.width;
    const ctx = await browser.newContext(vp);
    const page = await ctx.newPage();
    const r = await ctx.request.post(`${base}/api/enrol`, { data: { code: codes[i], username: `rec${w}`, password: PW } });
    check(r.status() === 201, `enrol: ${r.status()}`);
    await login(page, base, `rec${w}`);
    await page.getByRole('heading', { name: '健診結果', level: 1 }).waitFor();
    await page.getByRole('link', { name: '日々の記録' }).click();
    await page.getByRole('heading', { name: '日々の記録', level: 1 }).waitFor();
    const kind = page.getByLabel('記録の種類');
    const dia = page.getByLabel('拡張期血圧・下（mmHg）');

    // the diastolic field: hidden for steps and weight, shown for blood pressure
    check(!(await dia.isVisible()), `${w}px diastolic hidden for steps`);
    await kind.selectOption('bp');
    check(await dia.isVisible(), `${w}px diastolic shown for blood pressure`);
    await dia.fill('200'); // out of range (max 160), then the member switches
    await kind.selectOption('weight');
    check(!(await dia.isVisible()), `${w}px diastolic hidden for weight`);

    // a server refusal is shown, and cleared when the kind changes
    await page.getByLabel('体重（kg）').fill('900');
    await page.getByRole('button', { name: '記録する' }).click();
    const err = page.locator('#main [role="alert"]');
    await err.waitFor();
    check((await err.innerText()).includes('記録の内容に誤りがあります'), `${w}px refusal in Japanese: ${await err.innerText()}`);
    await kind.selectOption('steps');
    check(await err.count() === 0, `${w}px the old error is gone after changing the kind`);

    // steps save despite the hidden 200; the toast names the points earned
    const before = await balance(page);
    await page.getByLabel('日付').fill(`2026-11-${String(day++).padStart(2, '0')}`);
    await page.getByLabel('歩数（歩）').fill('9200');
    await page.getByRole('button', { name: '記録する' }).click();
    const toast = page.locator('#toast.show');
    await toast.waitFor();
    const text = await toast.innerText();
    const after = await balance(page);
    check(after - before === 10, `${w}px a step day earns 10 points (got ${after - before})`);
    check(text.includes(`${after - before}ポイント`), `${w}px toast names the ${after - before} points: ${text}`);
    const rows = await page.locator('#main table.simple tbody tr').allInnerTexts();
    check(rows.some((t) => t.includes('9,200歩')), `${w}px the step day is in the table: ${rows.join(' | ')}`);
    await ctx.close();
  }
});
