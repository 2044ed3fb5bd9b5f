// (h) A member sees their own 特定保健指導 episode in the portal: the insurer's
// roster names them, the guidance provider's CSV records a completed episode,
// and the member's "保健指導の記録" screen shows its level, first interview,
// contacts, evaluation and the 2 cm / 2 kg outcome.  Mobile-sized.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run, check, shot, login, MOBILE, PW } from './lib.js';

await run('member_guidance', async ({ browser, base, codes, rids, pop, data, kb }) => {
  // The enrolled member's identity, as their checkup institution sent it.
  const lines = readFileSync(join(pop, 'exams.csv'), 'utf8').split('\n');
  const row = lines.find((l) => l.split(',')[1] === rids[1]).split(',');
  const [ins, sym, num, br, fam, giv, famk, givk, sex, birth, postal, addr] = row.slice(4, 16);
  const roster = join(pop, 'member_roster.csv');
  writeFileSync(roster, 'insurer_no,insured_symbol,insured_number,branch_no,family_name,given_name,family_kana,given_kana,sex,'
    + `birth_date,postal_code,address,eligible_from,eligible_to,exclusion,exclusion_from,exclusion_to\n${[ins, sym, num, br, fam, giv, famk, givk, sex, birth, postal, addr, birth, '', '', '', ''].join(',')}\n`);
  kb(['roster', 'import', '--data', data, '--source', 'kenshin', roster]);
  const gcsv = join(pop, 'member_guidance.csv');
  writeFileSync(gcsv, 'insurer_no,insured_symbol,insured_number,branch_no,fiscal_year,level,start_date,form,contacts,status,eval_date,weight_change,waist_change,end_date\n'
    + `${ins},${sym},${num},${br},2023,1,2023-07-10,remote,2023-08-10/remote;2023-09-10/individual,completed,2023-10-12,-2.4,-3.0,\n`);
  kb(['guidance', 'import', '--data', data, '--provider', 'hoken-1', gcsv]);

  const ctx = await browser.newContext(MOBILE);
  const page = await ctx.newPage();
  await page.goto(base);
  const enrolled = await page.evaluate(async ([code, pw]) => (await fetch('/api/enrol', { method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ code, username: 'guided', password: pw }) })).status, [codes[1], PW]);
  check(enrolled === 201, `enrol: ${enrolled}`);
  await login(page, base, 'guided');
  await page.getByRole('link', { name: '保健指導の記録' }).click();
  await page.getByRole('heading', { name: '特定保健指導の記録' }).waitFor();
  const ep = page.locator('#episodes dl.episode[data-fy="2023"]');
  await ep.waitFor();
  const text = await ep.innerText();
  for (const want of ['積極的支援', '2023年7月10日', '遠隔（ICT）', '2023年9月10日 個別面接', 'hoken-1', '2023年10月12日', '体重 -2.4 kg・腹囲 -3.0 cm', '腹囲2cm・体重2kg減を達成'])
    check(text.includes(want), `episode shows "${want}": ${text}`);
  check((await ep.locator('[data-status]').innerText()).trim() === '終了（実績評価済み）', 'status text');
  // The read is in the member's own access log.
  const log = await page.evaluate(async () => (await fetch('/api/me/audit')).json());
  check(log.entries.some((e) => e.action === 'guidance.read'), 'guidance.read in the access log');
  check(log.entries.some((e) => e.action === 'guidance.record' && e.actor === 'cli'), 'guidance.record in the access log');
  await shot(page, 'member_guidance');
});
