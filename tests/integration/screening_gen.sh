#!/usr/bin/env bash
# `kenbank gen --screening` (issue 22): a municipal population with cancer
# screenings, 要精検 and 精密検査 results; after import, every process
# indicator of `kenbank report screening` (per screening, fiscal year, sex
# and age band, and the totals) equals an independent count over the
# generator's truth, made here in Python from screening_truth.csv alone.
# The default population is unchanged by the option.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
K="$KENBANK"
cd "$WORK"
fail() { echo "FAIL: $*" >&2; exit 1; }

"$K" gen --people 4000 --years 2 --seed 22 --out plain --no-noise 2>/dev/null
"$K" gen --people 4000 --years 2 --seed 22 --out pop --no-noise --screening 2>/dev/null
for f in exams.csv identities.csv truth.csv; do cmp -s "plain/$f" "pop/$f" || fail "--screening changed $f"; done
[ ! -e plain/screening.csv ] || fail "screening.csv without --screening"

"$K" init --data d >/dev/null
"$K" import --data d --source gen pop/exams.csv pop/screening.csv >imp.out 2>&1 || fail "import: $(cat imp.out)"
grep -q '^exams quarantined   0' imp.out || fail "quarantined: $(cat imp.out)"
grep -q '^new persons         4000' imp.out || fail "screening rows must link to the generated people: $(cat imp.out)"

"$K" report screening --data d --threshold 1 --today 2030-01-01 > report.csv
python3 - pop/screening_truth.csv report.csv <<'PY' || fail "report differs from the truth"
import csv, sys
from collections import defaultdict
truth, report = sys.argv[1], sys.argv[2]
def band(a):
    if a < 40: return "<40"
    if a >= 80: return "80+"
    lo = 40 + (a - 40) // 10 * 10
    return "%d-%d" % (lo, lo + 9)
sexes = {"1": "男", "2": "女", "0": "不明", "": "不明"}
n = defaultdict(lambda: [0, 0, 0, 0, 0])  # screened, referred, examined, unknown, cancer
for r in csv.DictReader(open(truth)):
    ref, ex, ca = int(r["referred"]), int(r["examined"]), int(r["cancer"])
    for s in (sexes[r["sex"]], "計"):
        for b in (band(int(r["age"])), "計"):
            c = n[(r["screening"], r["fiscal_year"], s, b)]
            c[0] += 1; c[1] += ref; c[2] += ex; c[3] += ref - ex; c[4] += ca
def rate(a, b): return "" if b == 0 else "%.3f" % (100.0 * a / b)
want = {}
for k, (sc, rf, ex, un, ca) in n.items():
    # 受診者数, 要精検者数, 要精検率, 精検受診者数, 精検受診率, 未把握者数, 未把握率,
    # がん発見数, がん発見率, 陽性反応適中度, 精検待ち (none: the window has ended)
    want[k] = [str(sc), str(rf), rate(rf, sc), str(ex), rate(ex, rf), str(un), rate(un, rf), str(ca),
               rate(ca, sc), rate(ca, rf), "0"]
rows = list(csv.reader(open(report)))
got = {tuple(r[:4]): r[4:] for r in rows[1:]}
bad = 0
for k in sorted(set(want) | set(got)):
    if want.get(k) != got.get(k):
        bad += 1
        if bad <= 10: print("differs", k, "truth", want.get(k), "report", got.get(k))
totals = [k for k in want if k[2] == "計" and k[3] == "計"]
referred = sum(want[k][1] != "0" for k in totals)
cancers = sum(int(want[k][7]) for k in totals)
print("%d cells compared, %d screening-years, %d cancers, %d differ" % (len(want), len(totals), cancers, bad))
if len(totals) != 10 or cancers == 0 or referred < 10: print("too small a population to mean anything"); bad += 1
sys.exit(1 if bad else 0)
PY
# the municipality dashboard's figures over the API (admin: every source),
# counts below 10 and rates built on them null, against the truth
PW=password-for-tests
KENBANK_PASSWORD=$PW "$K" user add --data d --username adm --role admin >/dev/null
"$K" serve --data d --listen 127.0.0.1:0 --threads 2 --login-rate 1000 >srv.out 2>srv.err &
SRV=$!
trap 'kill $SRV 2>/dev/null || true' EXIT
kb_wait_listening srv.out $SRV || fail "server did not start: $(cat srv.err)"
B="http://127.0.0.1:$(grep -o '127.0.0.1:[0-9]*' srv.out | cut -d: -f2)"
curl -s -o /dev/null -c jar -H 'Content-Type: application/json' -d "{\"username\":\"adm\",\"password\":\"$PW\"}" "$B/api/login"
curl -s -b jar "$B/api/screening/indicators" > ind.json
python3 - pop/screening_truth.csv ind.json <<'PY' || fail "indicators API differs from the truth"
import csv, json, sys
from collections import defaultdict
n = defaultdict(lambda: [0, 0, 0, 0])  # screened, referred, examined, cancer
for r in csv.DictReader(open(sys.argv[1])):
    for s in ({"1": "male", "2": "female"}.get(r["sex"], "unknown"), "all"):
        c = n[(r["screening"], int(r["fiscal_year"]), s)]
        c[0] += 1; c[1] += int(r["referred"]); c[2] += int(r["examined"]); c[3] += int(r["cancer"])
T = 10
def count(v): return None if 0 < v < T else v
def rate(a, b): return None if b == 0 or 0 < a < T or b < T else int(100000.0 * a / b + 0.5) / 1000.0
got = {(r["screening"], r["fiscal_year"], r["sex"]): r for r in json.load(open(sys.argv[2]))["rows"]}
bad = 0
for k, (sc, rf, ex, ca) in n.items():
    want = {"screened": count(sc), "referred": count(rf), "referral_rate": rate(rf, sc), "examined": count(ex),
            "examination_rate": rate(ex, rf), "cancer": count(ca), "ppv": rate(ca, rf), "detection_rate": rate(ca, sc)}
    g = got.get(k)
    for f, w in want.items():
        if g is None or (g[f] != w and not (w is not None and g[f] is not None and abs(g[f] - w) < 1e-9)):
            bad += 1
            if bad < 10: print("differs", k, f, "truth", w, "api", None if g is None else g[f])
if len(got) != len(n): print("rows", len(got), "truth", len(n)); bad += 1
print("%d rows compared, %d differ" % (len(n), bad))
sys.exit(1 if bad else 0)
PY

# cohort criteria on follow-up state: persons with such a case, any year,
# against the truth (open and lapsed together: which one depends on today)
python3 - pop/screening_truth.csv > fu_want.txt <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
for s in ("lung", "breast", "stomach", "cervix", "colon"):
    def people(f): return len({r["true_person"] for r in rows if r["screening"] == s and f(r)})
    print("followup(%s, closed)|%d" % (s, people(lambda r: r["examined"] == "1")))
    print("followup(%s, cancer)|%d" % (s, people(lambda r: r["cancer"] == "1")))
    print("followup(%s, open) OR followup(%s, lapsed)|%d" % (s, s, people(lambda r: r["referred"] == "1" and r["examined"] == "0")))
PY
while IFS='|' read -r q want; do
  got=$("$K" cohort --data d --all-subjects "$q")
  [ "$got" = "$want" ] || fail "cohort '$q': $got, truth $want"
done < fu_want.txt
echo "screening_gen: ok"
