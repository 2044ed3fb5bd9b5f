// User management on the operator screen: add an account, disable and
// re-enable it, lift a login block, and issue an enrolment code; each is
// one audited call and the list follows without a reload.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { run, check, login, shot, DESKTOP, PW } from './lib.js';

await run('operator_users', async ({ browser, base, data, rids, kb }) => {
  const ctx = await browser.newContext(DESKTOP);
  const page = await ctx.newPage();
  await login(page, base, 'admin');
  await page.goto(`${base}/#/operator`);
  await page.getByRole('heading', { name: 'アカウント一覧' }).waitFor();
  const tryLogin = async (u, pw) => (await (await browser.newContext()).request.post(`${base}/api/login`, { data: { username: u, password: pw } })).status();

  // add
  const form = page.locator('#user-add');
  await form.getByLabel('ユーザー名').fill('clinic2');
  await form.getByLabel(/初期パスワード/).fill(PW);
  await form.getByLabel('役割').selectOption('institution');
  await form.getByLabel(/所属/).fill('clinic-2');
  await form.getByRole('button', { name: '追加する' }).click();
  const row = page.locator('#users tr[data-user="clinic2"]');
  await row.waitFor();
  check(/健診機関/.test(await row.innerText()) && /利用中/.test(await row.innerText()), `new row: ${await row.innerText()}`);
  check(await tryLogin('clinic2', PW) === 200, 'the new account logs in');

  // disable, then enable
  await row.getByRole('button', { name: '利用停止' }).click();
  await row.filter({ hasText: '停止中' }).waitFor();
  check(await tryLogin('clinic2', PW) !== 200, 'a disabled account cannot log in');
  await row.getByRole('button', { name: '利用再開' }).click();
  await row.filter({ hasText: '利用中' }).waitFor();
  check(await tryLogin('clinic2', PW) === 200, 'enabled again');

  // a login block (six wrong passwords, held far into the future) lifted
  for (let i = 0; i < 6; i++) await tryLogin('clinic2', 'wrong-password-x');
  execFileSync('sqlite3', [join(data, 'identity.db'), "UPDATE login_throttle SET blocked_until = '2099-01-01T00:00:00.000Z'"]);
  check(await tryLogin('clinic2', PW) === 429, 'blocked before the unlock');
  await page.reload();
  await row.filter({ hasText: 'ログイン制限中' }).waitFor();
  await row.getByRole('button', { name: 'ロック解除' }).click();
  await row.filter({ hasNotText: 'ログイン制限中' }).waitFor();
  check(await tryLogin('clinic2', PW) === 200, 'logs in right after the unlock');

  // an enrolment code for a person found by a submitted record; redeemable
  const enrol = page.locator('#enrol-code');
  await enrol.getByLabel(/送信元/).fill('kenshin');
  await enrol.getByLabel('記録ID').fill(rids[0]);
  await enrol.getByRole('button', { name: 'コードを発行する' }).click();
  const code = (await page.locator('#enrol-code-value').innerText()).trim();
  check(/^[0-9A-Z]{4}(-[0-9A-Z]{4}){3}$/.test(code), `code shown: ${code}`);
  const r = await (await browser.newContext()).request.post(`${base}/api/enrol`, { data: { code, username: 'newmember', password: PW } });
  check(r.status() === 201, `the code enrols: ${r.status()}`);
  // a second code for someone with an account: refused, in Japanese
  await enrol.getByRole('button', { name: 'コードを発行する' }).click();
  await page.locator('#enrol-out [role=alert]').filter({ hasText: 'すでにアカウントをお持ち' }).waitFor();
  await shot(page, 'operator_users');

  const audit = kb(['audit', 'list', '--data', data]);
  for (const a of ['user.add', 'user.disable', 'user.enable', 'user.unlock', 'enrolment.issue'])
    check(audit.includes(a), `${a} audited`);
  await ctx.close();
});
