// (c) A member cannot reach another member's pages or data, nor staff
// screens: the pages show only their own results, direct API and FHIR
// requests for the other member's exams answer 404, and staff screens and
// endpoints are refused.
import { run, check, login, PW, MOBILE } from './lib.js';

await run('no_idor', async ({ browser, base, codes }) => {
  const mk = async (code, user) => {
    const ctx = await browser.newContext(MOBILE);
    const page = await ctx.newPage();
    await page.goto(base);
    const r = await page.evaluate(async ([c, u, p]) => (await fetch('/api/enrol', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ code: c, username: u, password: p }) })).status, [code, user, PW]);
    check(r === 201, `enrol ${user}: ${r}`);
    await login(page, base, user);
    await page.getByRole('heading', { name: '健診結果', level: 1 }).waitFor();
    return { ctx, page };
  };
  const a = await mk(codes[0], 'member_a');
  const b = await mk(codes[1], 'member_b');
  const results = (p) => p.evaluate(async () => (await fetch('/api/me/results')).json());
  const ra = await results(a.page), rb = await results(b.page);
  const idsA = ra.exams.map((x) => x.id), idsB = rb.exams.map((x) => x.id);
  check(idsA.length === 3 && idsB.length === 3, 'both have three exams');
  check(!idsA.some((id) => idsB.includes(id)), 'disjoint exams');

  // B asks for A's exam, A's FHIR observation, and A's results page by URL.
  for (const id of idsA) {
    const s = await b.page.evaluate(async (i) => [(await fetch(`/api/me/exams/${i}`)).status, (await fetch(`/fhir/Observation/${i}-0`)).status], id);
    check(s[0] === 404 && s[1] === 404, `B reading A's exam ${id}: ${s}`);
  }
  await b.page.goto(`${base}/#/results/${ra.exams[0].fiscal_year}`);
  await b.page.getByRole('heading', { name: '健診結果', level: 1 }).waitFor();
  const shown = await b.page.locator('.meta').first().innerText();
  const ja = (d) => { const [y, m, dd] = d.split('-').map(Number); return `${y}年${m}月${dd}日`; };
  check(shown.includes(ja(rb.exams.find((x) => x.fiscal_year === ra.exams[0].fiscal_year)?.exam_date ?? rb.exams[0].exam_date)), `B's page shows B's own checkup: ${shown}`);
  check(!shown.includes(ja(ra.exams[0].exam_date)) || ra.exams[0].exam_date === rb.exams[0].exam_date, 'B never sees A\'s checkup date');

  // A's records and consents do not leak into B's views.
  const csrfA = (await a.page.evaluate(async () => (await fetch('/api/me')).json())).csrf;
  const st = await a.page.evaluate(async (c) => (await fetch('/api/me/sensors', { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': c }, body: JSON.stringify({ kind: 'weight', date: '2024-01-02', value: 61.5 }) })).status, csrfA);
  check(st === 201, `A adds a reading: ${st}`);
  const sb = await b.page.evaluate(async () => (await fetch('/api/me/sensors')).json());
  check(sb.readings.length === 0, 'B sees none of A\'s readings');
  const auditB = await b.page.evaluate(async () => (await fetch('/api/me/audit')).json());
  check(!auditB.entries.some((e) => e.actor.startsWith('member_a')), 'B\'s access log has no entries of A');

  // Staff screens and endpoints are closed to a member.
  await b.page.goto(`${base}/#/dashboard`);
  await b.page.getByRole('heading', { name: 'このページは表示できません。' }).waitFor();
  for (const p of ['/api/insurer/dashboard', '/api/users', '/api/uploads', '/api/points/rules', '/api/audit'])
    check(await b.page.evaluate(async (u) => (await fetch(u)).status, p) === 403, `member GET ${p} must be 403`);
  // Logged out: every member page goes to the login screen and the API says 401.
  await b.page.getByRole('button', { name: 'ログアウト' }).click();
  await b.page.getByRole('heading', { name: 'ログイン' }).waitFor();
  await b.page.goto(`${base}/#/access`);
  await b.page.getByRole('heading', { name: 'ログイン' }).waitFor();
  check(await b.page.evaluate(async () => (await fetch('/api/me/results')).status) === 401, 'results after logout: 401');
  await a.ctx.close();
  await b.ctx.close();
});
