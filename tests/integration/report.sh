#!/usr/bin/env bash
# kenbank report insurer: figures agree with the store, small cells are
# suppressed everywhere (tables, chart data, JSON), Chart.js is inlined, and
# GET /api/reports/insurer returns the same figures to the insurer itself.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
K="$KENBANK"
cd "$WORK"
fail() { echo "FAIL: $*" >&2; [ -f srv.err ] && tail -20 srv.err >&2; exit 1; }

"$K" gen --people 1500 --years 3 --seed 3 --insurers 3 --out pop --format csv >/dev/null 2>&1
"$K" init --data d >/dev/null
"$K" import --data d --source kenshin pop/exams.csv >/dev/null || [ $? -eq 3 ]
# the insurer with the most FY2023 exams, and its token likewise
INS=$(awk -F, 'NR>1 && $3 >= "2023-04-01" && $3 <= "2024-03-31" {print $5}' pop/exams.csv | sort | uniq -c | sort -rn | awk 'NR==1{print $2}')
want=$(kb_sql d research "SELECT COUNT(DISTINCT subject_id) FROM exams WHERE current = 1 AND fiscal_year = 2023
  GROUP BY insurer_token ORDER BY COUNT(*) DESC LIMIT 1")

"$K" report insurer --data d --insurer "$INS" --fiscal-year 2023 --out r.json --json 2>/dev/null
"$K" report insurer --data d --insurer "$INS" --fiscal-year 2023 --out r.html 2>/dev/null
node -e '
const r = JSON.parse(require("fs").readFileSync("r.json", "utf8"));
const want = Number(process.argv[1]);
if (r.participation.examinees !== want) throw new Error(`examinees ${r.participation.examinees}, store ${want}`);
// every numeric cell anywhere is 0 or >= 10; suppressed ones are "<10"
let sup = 0;
(function walk(v, path) {
  if (typeof v === "number" && !/fiscal_year|threshold|_pct|rate/.test(path) && v > 0 && v < 10) throw new Error(`small cell ${path}=${v}`);
  if (v === "<10") sup++;
  if (v && typeof v === "object") for (const k of Object.keys(v)) walk(v[k], path + "." + k);
})(r, "");
if (sup === 0) throw new Error("expected some suppressed cells in a small population");
const m = r.metabo, tot = ["基準該当","予備群該当","非該当","判定不能"].map(k => typeof m[k] === "number" ? m[k] : 0).reduce((a,b)=>a+b);
if (tot > r.participation.examinees) throw new Error("metabo total exceeds examinees");
if (!Array.isArray(r.metabo_transitions) || r.metabo_transitions.length !== 4) throw new Error("transitions");
if (!r.referral.some(x => x.key === "hba1c")) throw new Error("referral per item");
// every flagged key reads as an item name, underweight (bmi_low) included
for (const x of r.referral) if (x.name === x.key && !/^[A-Za-z0-9γ-]+$/.test(x.name) || /_/.test(x.name)) throw new Error(`raw key as name: ${x.key}`);
if (!r.referral.some(x => x.key === "bmi_low" && x.name === "低体重（BMI）")) throw new Error("underweight row named 低体重（BMI）");
' "$want" || fail "JSON figures"

# HTML: Japanese first, Chart.js inlined, suppressed cells shown, chart data without small values
grep -q '<html lang="ja">' r.html || fail "lang"
grep -q '特定健診 保険者別レポート' r.html || fail "Japanese title"
for h in 受診状況 メタボリックシンドローム判定 保健指導レベル 受診勧奨率 前年度からの推移; do grep -q "$h" r.html || fail "section $h"; done
[ "$(grep -o 'new Chart(document' r.html | wc -l)" -ge 4 ] || fail "charts"
grep -q 'Chart.js v' r.html || fail "Chart.js must be inlined"
grep -q 'src="http' r.html && fail "no external resources"
grep -q '<td class="sup">&lt;10</td>' r.html || fail "suppressed cells"
node -e '
const h = require("fs").readFileSync("r.html", "utf8");
const m = h.match(/<script type="application\/json" id="ir-data">([^<]*)<\/script>/);
const d = JSON.parse(m[1]);
const nums = JSON.stringify(d).match(/[\[,:]-?\d+(\.\d+)?(?=[,\]}])/g) || [];
(function walk(v, p) { if (typeof v === "number" && !/refRates/.test(p) && v > 0 && v < 10) throw new Error(`chart value ${p}=${v}`);
  if (v && typeof v === "object") for (const k of Object.keys(v)) walk(v[k], p + "." + k); })(d, "");
' || fail "chart data holds small cells"

# API: the insurer sees its own report; a researcher may not
PW=password-for-tests
KENBANK_PASSWORD=$PW "$K" user add --data d --username ins --role insurer --org "$INS" >/dev/null
KENBANK_PASSWORD=$PW "$K" user add --data d --username res --role researcher --org uni >/dev/null
"$K" serve --data d --listen 127.0.0.1:0 --threads 2 >srv.out 2>srv.err &
SRV=$!
trap 'kill $SRV 2>/dev/null || true' EXIT
kb_wait_listening srv.out $SRV || true
B="http://127.0.0.1:$(grep -o '127.0.0.1:[0-9]*' srv.out | cut -d: -f2)"
TI=$("$K" user token --data d --username ins); TR=$("$K" user token --data d --username res)
c=$(curl -s -o api.json -w '%{http_code}' -H "Authorization: Bearer $TI" "$B/api/reports/insurer?fiscal_year=2023")
[ "$c" = 200 ] || fail "API report: $c $(cat api.json)"
node -e 'const a=JSON.parse(require("fs").readFileSync("api.json","utf8")),b=JSON.parse(require("fs").readFileSync("r.json","utf8"));
if (JSON.stringify(a)!==JSON.stringify(b)) throw new Error("API and CLI figures differ")' || fail "API = CLI"
c=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TR" "$B/api/reports/insurer?fiscal_year=2023")
[ "$c" = 403 ] || fail "researcher must be refused: $c"
c=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TI" "$B/api/reports/insurer")
[ "$c" = 400 ] || fail "missing fiscal_year: $c"
kill $SRV; wait $SRV 2>/dev/null || true; trap - EXIT
[ "$(kb_sql d research "SELECT COUNT(*) FROM audit_log WHERE action = 'report.insurer'")" = 3 ] || fail "reports audited"
echo ok
