// Shared set-up of the browser tests (not a test itself: tests/run.sh runs
// only *.mjs).  Builds a small synthetic data directory with `kenbank gen`,
// `init`, `import`, staff accounts and enrolment codes; starts `kenbank serve`
// on a free port; launches Debian's chromium through playwright-core.  The
// server and browser are always stopped, whatever happens.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const PW = 'browser-test-pass';
const K = process.env.KENBANK || join(ROOT, 'build', 'kenbank');

function kb(args, env = {}) {
  return execFileSync(K, args, { env: { ...process.env, ...env }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export async function setup({ people = 150, noise = false } = {}) {
  const work = mkdtempSync(join(tmpdir(), 'kb-browser-'));
  const data = join(work, 'd');
  const cleanups = [() => rmSync(work, { recursive: true, force: true })];
  const env = { cleanup: async () => { for (const f of cleanups.reverse()) { try { await f(); } catch { /* keep going */ } } } };
  try {
    kb(['gen', '--people', String(people), '--years', '3', '--seed', '2024', ...(noise ? [] : ['--no-noise']), '--out', join(work, 'pop'), '--format', 'both']);
    kb(['init', '--data', data]);
    try { kb(['import', '--data', data, '--source', 'kenshin', join(work, 'pop', 'xml')]); } catch (e) { if (e.status !== 3) throw e; }
    for (const [u, role, org] of [['insurer', 'insurer', 'kenshin'], ['clinic', 'institution', 'kenshin'], ['admin', 'admin', '']])
      kb(['user', 'add', '--data', data, '--username', u, '--role', role, ...(org ? ['--org', org] : [])], { KENBANK_PASSWORD: PW });
    // Members with a checkup in each of the three years.
    const exams = new Set(readFileSync(join(work, 'pop', 'exams.csv'), 'utf8').split('\n').slice(1).map((l) => l.split(',')[1]));
    const per = new Map();
    for (const l of readFileSync(join(work, 'pop', 'truth.csv'), 'utf8').split('\n').slice(1)) {
      const [, rid, p] = l.split(',');
      if (!exams.has(rid)) continue;
      if (!per.has(p)) per.set(p, []);
      per.get(p).push(rid);
    }
    const three = [...per.values()].filter((r) => r.length === 3).map((r) => r.sort()[0]).sort();
    env.codes = three.slice(0, 2).map((rid) => kb(['enrol', '--data', data, '--source', 'kenshin', '--record-id', rid]).match(/[0-9A-Z]{4}(-[0-9A-Z]{4}){3}/)[0]);
    env.data = data;
    env.rids = three.slice(0, 2); // the record ids behind env.codes
    env.pop = join(work, 'pop');
    env.kb = kb;

    const srv = spawn(K, ['serve', '--data', data, '--listen', '127.0.0.1:0', '--threads', '4', '--login-rate', '1000'], { stdio: ['ignore', 'pipe', 'pipe'] });
    cleanups.push(() => new Promise((res) => { if (srv.exitCode !== null) return res(); srv.once('exit', res); srv.kill('SIGTERM'); setTimeout(() => { srv.kill('SIGKILL'); res(); }, 5000); }));
    let errText = '';
    srv.stderr.on('data', (b) => { errText += b; });
    env.base = await new Promise((res, rej) => {
      let out = '';
      const timer = setTimeout(() => rej(new Error(`server did not start within 60 s: ${errText}`)), 60000);
      srv.stdout.on('data', (b) => {
        out += b;
        const m = out.match(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
        if (m) { clearTimeout(timer); res(m[1]); }
      });
      srv.once('exit', (c) => rej(new Error(`server exited ${c}: ${errText}`)));
    });
    env.serverErrors = () => errText;

    const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'] });
    cleanups.push(() => browser.close());
    env.browser = browser;
    return env;
  } catch (e) {
    await env.cleanup();
    throw e;
  }
}

export const MOBILE = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, locale: 'ja-JP' };
export const DESKTOP = { viewport: { width: 1280, height: 900 }, locale: 'ja-JP' };

export async function shot(page, name) {
  if (process.env.KB_SCREENSHOTS !== '1') return;
  mkdirSync(join(ROOT, 'docs', 'screenshots'), { recursive: true });
  await page.evaluate(() => document.getElementById('toast')?.classList.remove('show'));
  await page.waitForTimeout(150);
  await page.screenshot({ path: join(ROOT, 'docs', 'screenshots', `${name}.png`), fullPage: true });
}

export function check(cond, msg) {
  if (!cond) throw new Error(`FAIL: ${msg}`);
}

// Runs a test body with set-up and guaranteed clean-up; exit 1 on failure.
export async function run(name, body, opts) {
  let env;
  // a sweep of many screens may ask for more time (opts.timeoutMs)
  const guard = setTimeout(() => { console.error(`${name}: timed out`); process.exit(1); }, (opts && opts.timeoutMs) || 240000);
  try {
    env = await setup(opts);
    await body(env);
    console.log(`${name}: ok`);
  } catch (e) {
    console.error(`${name}: ${e.stack || e}`);
    if (env && env.serverErrors) console.error(env.serverErrors().slice(-2000));
    process.exitCode = 1;
  } finally {
    if (env) await env.cleanup();
    clearTimeout(guard);
  }
}

export async function login(page, base, user, pw = PW) {
  await page.goto(`${base}/#/login`);
  await page.getByLabel(/ユーザー名|Username/).fill(user);
  await page.getByLabel(/^(パスワード|Password)$/).fill(pw);
  await page.getByRole('button', { name: /ログインする|Log in/ }).click();
}

// Navigates the single-page app to #/name and waits until that screen has
// rendered: the router marks the screen it finished last on <body
// data-route>, so the previous screen, or the new one's loading line, cannot
// satisfy the wait (as "an h1 and nothing loading" could, under load).
//
// The mark is cleared, the hash compared and the hash set in one turn of the
// page's event loop: done in separate steps, a screen that finished in
// between (the redirect after a login) could set the hash to this very
// screen and its mark before the clear, and the goto to an unchanged hash
// then started no render at all (a staff_sweep flake: dashboard shown, mark
// gone, 30 s timeout).
export async function show(page, base, name, timeout = 30000) {
  const screen = name.split('/')[0];
  const onApp = page.url().startsWith(`${base}/`);
  const same = onApp && await page.evaluate((h) => {
    delete document.body.dataset.route;
    if (location.hash === h) return true;
    location.hash = h;
    return false;
  }, `#/${name}`);
  if (!onApp) await page.goto(`${base}/#/${name}`);
  else if (same) await page.reload();
  try {
    await page.waitForFunction((s) => document.body.dataset.route === s && !document.querySelector('#main .loading'),
      screen, { timeout });
  } catch (err) {
    const st = await page.evaluate(() => ({ url: location.href, route: document.body.dataset.route,
      loading: !!document.querySelector('#main .loading'),
      main: document.getElementById('main').innerText.slice(0, 200) })).catch((e) => String(e));
    throw new Error(`#/${name} did not render: ${JSON.stringify(st)} (${err.message})`);
  }
}
