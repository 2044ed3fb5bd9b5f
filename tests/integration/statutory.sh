#!/usr/bin/env bash
# The statutory figures (kenbank report statutory) equal, exactly, an
# independent count over the generator's truth: a population with a roster
# (members who never attend, who join and leave mid-year, exclusions) and
# three checkup years.  The count below reads only the generator's files
# (roster.csv, roster_truth.csv, truth.csv, exams.csv) and the per-exam
# judgements of `kenbank judge` (9N501/9N506 levels, the domain rule with its
# own tests): who is a 対象者, who attended, groups and 減少率 are counted
# here in Python, not by kenbank's code.  The insurer report's JSON 実施率
# must be the same number.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
K="$KENBANK"
cd "$WORK"
fail() { echo "FAIL: $*" >&2; exit 1; }

# No identity noise, so linkage is exact and the truth is the right answer
# for every record; job changes stay on (members who leave one insurer and
# join another mid-year).
"$K" gen --people 3000 --years 3 --seed 19 --insurers 3 --roster --no-noise --rate-jobchange 0.1 \
    --format both --out pop >/dev/null 2>&1
[ -s pop/roster.csv ] || fail "gen --roster wrote no roster.csv"
"$K" init --data d >/dev/null
"$K" import --data d --source kenshin pop/xml >/dev/null
"$K" roster import --data d --source kenshin pop/roster.csv > roster.out || fail "roster import: $(cat roster.out)"
"$K" guidance import --data d --provider hoken-1 pop/guidance.csv > guidance.out || fail "guidance import: $(cat guidance.out)"
"$K" judge pop/xml > judged.csv 2>/dev/null || true
[ "$(wc -l < judged.csv)" -gt 1000 ] || fail "kenbank judge gave $(wc -l < judged.csv) rows"

# the insurer with the most roster rows
INS=$(awk -F, 'NR>1 {print $1}' pop/roster.csv | sort | uniq -c | sort -rn | awk 'NR==1{print $2}')

cat > count.py <<'PY'
import csv, sys
ins, fy = sys.argv[1], int(sys.argv[2])
truth = {r['record_id']: int(r['true_person']) for r in csv.DictReader(open('pop/truth.csv'))}
judged = {r['record_id']: r for r in csv.DictReader(open('judged.csv'))}

def fiscal_year(d):
    y, m = int(d[:4]), int(d[5:7])
    return y if m >= 4 else y - 1

# last exam per person and fiscal year: (date, record) -> (metabo, level)
last = {}
for r in csv.DictReader(open('pop/exams.csv')):
    p, y, d = truth[r['record_id']], fiscal_year(r['exam_date']), r['exam_date']
    j = judged[r['record_id']]
    k = (p, y)
    if k not in last or (d, r['record_id']) > last[k][0]:
        last[k] = ((d, r['record_id']), int(j['metabo']), int(j['guidance_level']))

tp = {}
for r in csv.DictReader(open('pop/roster_truth.csv')):
    tp[(r['insurer_no'], r['insured_symbol'], r['insured_number'], r['branch_no'])] = int(r['true_person'])
# the provider's episodes: (person, checkup year) -> status
episode = {}
for r in csv.DictReader(open('pop/guidance.csv')):
    episode[(tp[(r['insurer_no'], r['insured_symbol'], r['insured_number'], r['branch_no'])], int(r['fiscal_year']))] = r['status']

def age_at_fy_end(birth, y):
    # age on 31 March of y+1; one is a year older from the day before the
    # birthday, so someone born on 1 April counts as if born on 31 March
    by, bm, bd = int(birth[:4]), int(birth[5:7]), int(birth[8:10])
    a = (y + 1) - by
    if (bm, bd) > (4, 1):
        a -= 1
    return a

def target(r, y):
    first, last_day = '%04d-04-01' % y, '%04d-03-31' % (y + 1)
    if not (40 <= age_at_fy_end(r['birth_date'], y) <= 74):
        return False
    if r['eligible_from'] > first:
        return False
    if r['eligible_to'] and r['eligible_to'] <= last_day:
        return False
    if r['exclusion']:
        if r['exclusion_from'] <= last_day and (not r['exclusion_to'] or r['exclusion_to'] >= first):
            return False
    return True

groups = ['all', 'male', 'female'] + ['%s:%d-%d' % (s, a, a + 4) for s in ('male', 'female') for a in range(40, 75, 5)]
C = {g: dict(t=0, e=0, l1=0, l2=0, m1=0, m2=0, pl=0, plo=0, pm=0, pmo=0, s1=0, s2=0, c1=0, c2=0) for g in groups}
seen = set()
for r in csv.DictReader(open('pop/roster.csv')):
    if r['insurer_no'] != ins:
        continue
    p = tp[(r['insurer_no'], r['insured_symbol'], r['insured_number'], r['branch_no'])]
    if p in seen or not target(r, fy):
        continue
    seen.add(p)
    sex = 'male' if r['sex'] == '1' else 'female'
    a = age_at_fy_end(r['birth_date'], fy)
    band = '%s:%d-%d' % (sex, 40 + (a - 40) // 5 * 5, 44 + (a - 40) // 5 * 5)
    for g in ('all', sex, band):
        c = C[g]
        c['t'] += 1
        cur = last.get((p, fy))
        if not cur:
            continue
        c['e'] += 1
        c['l1'] += cur[2] == 1
        c['l2'] += cur[2] == 2
        c['m1'] += cur[1] == 1
        c['m2'] += cur[1] == 2
        if cur[2] in (1, 2) and (p, fy) in episode:
            c['s%d' % cur[2]] += 1
            c['c%d' % cur[2]] += episode[(p, fy)] == 'completed'
        prev = last.get((p, fy - 1))
        if prev:
            if prev[2] in (1, 2):
                c['pl'] += 1
                c['plo'] += cur[2] == 3
            if prev[1] in (1, 2):
                c['pm'] += 1
                c['pmo'] += cur[1] == 3

def rate(n, d):
    if d == 0:
        return ''
    pm = (2000 * n + d) // (2 * d)
    return '%d.%d' % (pm // 10, pm % 10)

figs = [('kenshin_rate', 'e', 't'), ('guidance_target_intensive', 'l1', 'e'),
        ('guidance_target_motivational', 'l2', 'e'), ('guidance_target', None, 'e'),
        ('metabo_applicable', 'm1', 'e'), ('metabo_reserve', 'm2', 'e'),
        ('guidance_started_intensive', 's1', 'l1'), ('guidance_started_motivational', 's2', 'l2'),
        ('guidance_started', 's', 'l'), ('guidance_rate_intensive', 'c1', 'l1'),
        ('guidance_rate_motivational', 'c2', 'l2'), ('guidance_rate', 'c', 'l'),
        ('guidance_target_reduction', 'plo', 'pl'), ('metabo_reduction', 'pmo', 'pm')]
print('figure,group,numerator,denominator,rate')
for name, n, d in figs:
    for g in groups:
        c = C[g]
        val = lambda k: c[k + '1'] + c[k + '2'] if k in ('l', 's', 'c') else c[k]
        num = val('l') if n is None else val(n)
        print('%s,%s,%d,%d,%s' % (name, g, num, val(d), rate(num, val(d))))
PY

for FY in 2022 2023 2024; do
    python3 count.py "$INS" "$FY" > want_$FY.csv
    "$K" report statutory --data d --insurer "$INS" --fiscal-year "$FY" --csv --threshold 1 --out got_$FY.csv 2>/dev/null
    diff want_$FY.csv got_$FY.csv > diff_$FY.txt || fail "FY$FY: kenbank differs from the independent count: $(head -20 diff_$FY.txt)"
done
# the figures are not trivially zero: targets, non-attenders, both levels, a reduction
awk -F, '$1=="kenshin_rate" && $2=="all" {exit !($4 > 500 && $3 < $4 && $3 > 0)}' got_2023.csv \
    || fail "implausible 実施率 row: $(grep '^kenshin_rate,all' got_2023.csv)"
awk -F, '$1=="guidance_target_reduction" && $2=="all" {exit !($4 > 0)}' got_2024.csv || fail "no 減少率 denominator"
awk -F, '$1=="guidance_rate" && $2=="all" {exit !($3 > 0 && $3 < $4)}' got_2023.csv || fail "no 特定保健指導 終了者: $(grep '^guidance_rate,all' got_2023.csv)"
awk -F, '$1=="guidance_started" && $2=="all" {exit !($3 > 0)}' got_2023.csv || fail "no 利用者"
# exclusions, joiners and leavers exist in the roster the count ran over
[ "$(awk -F, 'NR>1 && $15!=""' pop/roster.csv | wc -l)" -gt 0 ] || fail "no exclusions generated"
[ "$(awk -F, 'NR>1 && $14!=""' pop/roster.csv | wc -l)" -gt 0 ] || fail "no leavers generated"

# small cells suppressed as the insurer report does (default threshold 10)
"$K" report statutory --data d --insurer "$INS" --fiscal-year 2023 --csv --out sup.csv 2>/dev/null
awk -F, 'NR>1 { for (i = 3; i <= 4; i++) if ($i ~ /^[0-9]+$/ && $i > 0 && $i < 10) exit 1 }' sup.csv || fail "unsuppressed small cell"
grep -q ',<10,' sup.csv || fail "no suppressed cell in a 3000-person population's age bands"
awk -F, 'NR>1 && ($3 == "<10" || $4 == "<10") && $5 != "" {exit 1}' sup.csv || fail "rate shown for a suppressed cell"
"$K" report statutory --data d --insurer "$INS" --fiscal-year 2023 --out st.html 2>/dev/null
grep -q '特定健診 実施率' st.html || fail "HTML lacks the 実施率 table"

# the insurer report's JSON carries the same 実施率
"$K" report insurer --data d --insurer "$INS" --fiscal-year 2023 --json --out r.json 2>/dev/null
WANT=$(awk -F, '$1=="kenshin_rate" && $2=="all" {print $5}' got_2023.csv)
GOT=$(python3 -c 'import json; print(json.load(open("r.json"))["participation"]["statutory_rate_pct"])')
python3 -c 'import sys; sys.exit(abs(float(sys.argv[1]) - float(sys.argv[2])) > 1e-9)' "$GOT" "$WANT" || fail "insurer report 実施率 $GOT, statutory $WANT"

# the insurer dashboard's 受診率 is the statutory 実施率 of the rosters its
# organisation imported (the roster went in under the exams' source name),
# every year; an organisation with exams but no roster gets no rate
PW=password-for-tests
KENBANK_PASSWORD=$PW "$K" user add --data d --username ins --role insurer --org kenshin >/dev/null
# exams under a source with no roster (a CSV row names its own source)
head -60 pop/exams.csv > other.csv
OTHER=$(awk -F, 'NR==2 {print $1}' other.csv)
"$K" import --data d --source other other.csv >/dev/null
KENBANK_PASSWORD=$PW "$K" user add --data d --username ins2 --role insurer --org "$OTHER" >/dev/null
mkdir -p "$WORK/tmp"
TMPDIR="$WORK/tmp" "$K" serve --data d --listen 127.0.0.1:0 --threads 2 --login-rate 1000 >srv.out 2>srv.err &
SRV=$!
trap 'kill $SRV 2>/dev/null || true' EXIT
kb_wait_listening srv.out $SRV || true
PORT=$(grep -o '127.0.0.1:[0-9]*' srv.out | cut -d: -f2)
[ -n "$PORT" ] || fail "server did not start: $(cat srv.err)"
B="http://127.0.0.1:$PORT"
for u in ins ins2; do
    code=$(curl -s -o login_$u.json -w '%{http_code}' -c jar_$u -H 'Content-Type: application/json' \
        --data "{\"username\":\"$u\",\"password\":\"$PW\"}" "$B/api/login")
    [ "$code" = 200 ] || fail "login $u: $code"
    code=$(curl -s -o dash_$u.json -w '%{http_code}' -b jar_$u "$B/api/insurer/dashboard")
    [ "$code" = 200 ] || fail "dashboard $u: $code $(cat dash_$u.json)"
done
for FY in 2022 2023 2024; do
    "$K" report statutory --data d --source kenshin --fiscal-year "$FY" --csv --out src_$FY.csv 2>/dev/null
done
python3 - <<'PY' || fail "dashboard 受診率 differs from report statutory"
import csv, json, sys
d = json.load(open('dash_ins.json'))
years = {y['fiscal_year']: y for y in d['years']}
assert sorted(years) == [2022, 2023, 2024], years.keys()
for fy in (2022, 2023, 2024):
    row = next(r for r in csv.DictReader(open('src_%d.csv' % fy)) if r['figure'] == 'kenshin_rate' and r['group'] == 'all')
    want = float(row['rate']) / 100
    got = years[fy]['participation']
    if got is None or abs(got - want) > 1e-9 or years[fy]['targets'] != int(row['denominator']):
        sys.exit('FY%d: dashboard %r / %r, statutory %s / %s' % (fy, got, years[fy]['targets'], want, row['denominator']))
# an organisation without a roster gets no rate rather than a made-up one
other = json.load(open('dash_ins2.json'))
assert other['years'] and all(y['participation'] is None for y in other['years']), other['years']
PY
echo "statutory: ok"
