// 経年変化 (issue 18): the y axis is a fixed, sensible range per item (not
// zoomed to the data), the normal band is drawn, checkup points are coloured
// (and shaped) by 判定, the x axis is time (gaps in proportion to the days
// between), and home blood pressure is one connected series judged against
// the home lines 135/85, not the checkup lines.  At 390 px and 1366 px.
import { run, check, login, shot, MOBILE, PW } from './lib.js';

const GREEN = '#3c8d5a', AMBER = '#d08c00', RED = '#c0392b';

async function chartState(page) {
  return page.evaluate(() => {
    const c = window.Chart.getChart('trend-chart');
    const [chk, ...rest] = c.data.datasets;
    const x = c.scales.x, y = c.scales.y;
    const band = c.options.plugins.normalBand;
    // a pixel inside the band, left of every series
    let bandPixel = null;
    if (band && band.from !== undefined) {
      const py = Math.round(y.getPixelForValue((Math.max(band.from, y.min) + Math.min(band.to, y.max)) / 2));
      const ratio = c.canvas.width / c.canvas.clientWidth;
      const px = Math.round(c.chartArea.left + 4);
      bandPixel = [...c.ctx.getImageData(px * ratio, py * ratio, 1, 1).data];
    }
    return {
      xType: x.type, yMin: y.min, yMax: y.max, band, bandPixel,
      plugins: c.config.plugins.map((p) => p.id),
      checkup: chk.data.map((p, i) => ({ x: p.x, y: p.y, px: x.getPixelForValue(p.x), color: chk.pointBackgroundColor[i] })),
      others: rest.map((d) => ({ label: d.label, kind: d.kind, showLine: d.showLine, ys: d.data.map((p) => p.y), xs: d.data.map((p) => p.x) })),
    };
  });
}

await run('member_trends', async ({ browser, base, codes }) => {
  for (const [i, vp] of [MOBILE, { viewport: { width: 1366, height: 900 }, locale: 'ja-JP' }].entries()) {
    const w = vp.viewport.width;
    const ctx = await browser.newContext(vp);
    const page = await ctx.newPage();
    check((await ctx.request.post(`${base}/api/enrol`, { data: { code: codes[i], username: `tr${w}`, password: PW } })).status() === 201, 'enrol');
    await login(page, base, `tr${w}`);
    await page.getByRole('heading', { name: '健診結果', level: 1 }).waitFor();
    const csrf = await page.evaluate(async () => (await (await fetch('/api/me')).json()).csrf);
    const home = [['2026-10-01', 128, 82], ['2026-10-08', 138, 88], ['2026-10-15', 131, 84]];
    const put = await ctx.request.post(`${base}/api/me/sensors`, { headers: { 'X-CSRF-Token': csrf },
      data: { readings: home.map(([date, s, d]) => ({ kind: 'bp', date, value: s, value2: d })) } });
    check(put.status() === 201 || put.status() === 200, `home readings: ${put.status()}`);
    const results = await page.evaluate(async () => (await fetch('/api/me/results')).json());

    for (const [key, range, homeLine] of [['sbp', [80, 200], 135], ['dbp', [40, 130], 85], ['hba1c', [4, 10], null]]) {
      await page.goto(`${base}/#/trends/${key}`);
      await page.waitForFunction((k) => location.hash === `#/trends/${k}` && window.Chart?.getChart('trend-chart') && !document.querySelector('#main .loading'), key);
      const s = await chartState(page);
      if (w > 390 && key === 'sbp') await shot(page, 'member_trends_bp');
      const where = `${w}px ${key}`;
      // not zoomed: the item's fixed range, widened only to fit
      const vals = s.checkup.map((p) => p.y);
      check(s.yMin <= range[0] && s.yMax >= range[1], `${where}: y axis ${s.yMin}..${s.yMax}, expected at least ${range}`);
      check(s.yMax - s.yMin >= 3 * (Math.max(...vals) - Math.min(...vals)), `${where}: y axis zoomed to the data (${s.yMin}..${s.yMax} for ${vals})`);
      // time on x: pixel gaps in proportion to day gaps
      check(s.xType === 'linear', `${where}: x axis is ${s.xType}, not time`);
      const exams = [...results.exams].sort((a, b) => a.exam_date.localeCompare(b.exam_date));
      const days = exams.map((x) => Date.parse(`${x.exam_date}T00:00:00Z`));
      check(JSON.stringify(s.checkup.map((p) => p.x)) === JSON.stringify(days), `${where}: checkup x values are the exam days`);
      const g1 = s.checkup[1].px - s.checkup[0].px, g2 = s.checkup[2].px - s.checkup[1].px;
      const d1 = days[1] - days[0], d2 = days[2] - days[1];
      check(Math.abs(g1 / g2 - d1 / d2) < 0.02 * (d1 / d2) + 0.01, `${where}: gaps ${g1}/${g2} px against ${d1}/${d2} ms`);
      // colour by 判定
      exams.forEach((x, k) => {
        const level = x.items.find((it) => it.key === key && it.value !== undefined).level ?? 0;
        check(s.checkup[k].color === [GREEN, AMBER, RED][level], `${where}: point ${k} level ${level} drawn ${s.checkup[k].color}`);
      });
      // the normal band, drawn
      check(s.plugins.includes('normalBand') && s.band && s.band.to === exams[0].items.find((it) => it.key === key).range.guidance, `${where}: band ${JSON.stringify(s.band)}`);
      const [r, g, b] = s.bandPixel;
      check(g > r && g > b && g < 250, `${where}: the band is not painted (pixel ${s.bandPixel})`);
      // home blood pressure: connected, against the home line
      const own = s.others.find((d) => d.kind === 'own');
      const line = s.others.find((d) => d.kind === 'home');
      if (homeLine) {
        check(own && own.showLine && own.ys.length === 3, `${where}: home readings as a connected series: ${JSON.stringify(own)}`);
        check(JSON.stringify(own.xs) === JSON.stringify([...own.xs].sort((a, b) => a - b)), `${where}: home series in time order`);
        check(line && line.ys.every((v) => v === homeLine) && line.label.includes(String(homeLine)), `${where}: home line ${JSON.stringify(line)}`);
        check((await page.locator('#home-note').innerText()).includes(`${homeLine} mmHg`), `${where}: the note explains the home line`);
      } else {
        check(!own && !line, `${where}: no home series for ${key}`);
      }
    }
    await ctx.close();
  }
});
