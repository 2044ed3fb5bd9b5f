// The phone header and menu (issue 18): at 390 px (and a narrow 320 px
// phone) the product name breaks only between words, never inside one, in
// Japanese and English; every item of the member's menu is on screen, not
// in a sideways scroll (no item past the right edge, the menu itself not
// scrollable), and tapping each opens its screen.  At 1366 px the menu is one
// row.
import { run, check, login, shot, MOBILE, PW } from './lib.js';

const ITEMS = ['健診結果', '経年変化', '日々の記録', '保健指導の記録', 'ポイント', '同意の管理', '利用履歴', 'データの取り出し'];

// Each word of the brand (split at spaces) must lie on one line: a Range
// over a word that wraps returns rects on more than one line.
function brandWords() {
  const span = document.querySelector('.brand span:last-child');
  const node = span.firstChild;
  const text = node.textContent;
  const out = [];
  let at = 0;
  for (const word of text.split(' ')) {
    const r = document.createRange();
    r.setStart(node, at);
    r.setEnd(node, at + word.length);
    const tops = new Set([...r.getClientRects()].filter((x) => x.width > 0).map((x) => Math.round(x.top)));
    out.push({ word, lines: tops.size });
    at += word.length + 1;
  }
  return out;
}

function menuState() {
  const nav = document.getElementById('nav');
  const vw = document.documentElement.clientWidth;
  return {
    scrolls: nav.scrollWidth > nav.clientWidth + 1,
    links: [...nav.querySelectorAll('a')].map((a) => {
      const r = a.getBoundingClientRect();
      return { text: a.textContent, left: r.left, right: r.right, top: r.top, vw, visible: r.width > 0 && r.height > 0 && getComputedStyle(a).visibility !== 'hidden' };
    }),
  };
}

await run('member_header', async ({ browser, base, codes }) => {
  const r0 = await (await browser.newContext()).request.post(`${base}/api/enrol`, { data: { code: codes[0], username: 'hdr', password: PW } });
  check(r0.status() === 201, `enrol: ${r0.status()}`);
  for (const width of [390, 320, 1366]) {
    const vp = width === 1366 ? { viewport: { width, height: 900 }, locale: 'ja-JP' } : { ...MOBILE, viewport: { width, height: 800 } };
    const ctx = await browser.newContext(vp);
    const page = await ctx.newPage();
    await login(page, base, 'hdr');
    await page.getByRole('heading', { name: '健診結果', level: 1 }).waitFor();
    for (const lang of ['ja', 'en']) {
      await page.locator('#lang').selectOption(lang);
      await page.waitForFunction((l) => document.documentElement.lang === l, lang);
      for (const w of await page.evaluate(brandWords))
        check(w.lines === 1, `${width}px ${lang}: the product name breaks inside "${w.word}" (${w.lines} lines)`);
    }
    await page.locator('#lang').selectOption('ja');
    await page.waitForFunction(() => document.documentElement.lang === 'ja');
    if (width === 390) await shot(page, 'member_menu_phone');
    const m = await page.evaluate(menuState);
    check(!m.scrolls, `${width}px: the menu scrolls sideways (hidden items)`);
    check(JSON.stringify(m.links.map((l) => l.text)) === JSON.stringify(ITEMS), `${width}px menu items: ${m.links.map((l) => l.text)}`);
    for (const l of m.links) check(l.visible && l.left >= 0 && l.right <= l.vw + 0.5, `${width}px: menu item ${l.text} off screen (${Math.round(l.left)}..${Math.round(l.right)} of ${l.vw})`);
    if (width === 1366) check(new Set(m.links.map((l) => Math.round(l.top))).size === 1, '1366px: the menu is one row');
    // every item opens its screen from the menu, as a tap would
    for (const name of ITEMS) {
      await page.locator('#nav').getByRole('link', { name, exact: true }).click();
      await page.waitForFunction((n) => document.querySelector('#nav a[aria-current="page"]')?.textContent === n, name);
      await page.locator('#main h1').first().waitFor();
    }
    await ctx.close();
  }
});
