#!/usr/bin/env bash
# kenbank gen --multi-source (issue 16): the population has every kind the
# linker must handle, each found in the files by what it looks like, not by
# the generator's own labels: kana-only PHR records in hiragana and half-width,
# moves, marriages, job changes, 番号 transpositions, birth-date slips, twins one character
# apart, opposite-sex twins a day apart, household namesakes with day and
# month swapped, same-name same-birthday strangers, parent and child of one
# name.  The truth file maps every record to a person.
set -euo pipefail
: "${KENBANK:?}" "${WORK:?}"
fail() { echo "FAIL: $*" >&2; exit 1; }

"$KENBANK" gen --people 6000 --years 2 --seed 5 --multi-source --out "$WORK/m" 2>/dev/null
python3 - "$WORK/m/identities.csv" "$WORK/m/truth.csv" <<'PY'
import csv, sys, datetime, itertools, unicodedata
from collections import defaultdict
ids = list(csv.DictReader(open(sys.argv[1], encoding="utf-8")))
truth = {(r["source"], r["record_id"]): r["true_person"] for r in csv.DictReader(open(sys.argv[2], encoding="utf-8"))}
assert len(truth) == len(ids), "truth has %d rows for %d records" % (len(truth), len(ids))
for r in ids:
    r["p"] = truth[(r["source"], r["record_id"])]
kinds = defaultdict(int)
phr = [r for r in ids if r["source"].startswith("phr")]
kinds["phr"] = len(phr)
if any(r["family_name"] or r["given_name"] for r in phr): sys.exit("a PHR record carries a kanji name")
if any(r["insured_number"] or r["insurer_no"] for r in phr): sys.exit("a PHR record carries insurer ids")
hira = lambda s: bool(s) and all("\u3041" <= c <= "\u309f" or c == "ー" for c in s)
half = lambda s: any("\uff66" <= c <= "\uff9f" for c in s)
kinds["phr hiragana"] = sum(hira(r["family_kana"]) for r in phr)
kinds["phr half-width"] = sum(half(r["family_kana"]) for r in phr)
kinds["checkup kanji"] = sum(1 for r in ids if r["source"].isdigit() and r["family_name"])
by = defaultdict(list)
for r in ids: by[r["p"]].append(r)
def distinct(rs, f): return {r[f] for r in rs if r[f]}
for p, rs in by.items():
    if len(distinct(rs, "postal_code")) > 1: kinds["move"] += 1
    if len(distinct(rs, "insurer_no")) > 1: kinds["job change"] += 1
    fam = [(r["family_name"], r["family_kana"]) for r in rs if r["family_name"] and r["family_kana"]]
    if rs[0]["sex"] == "2" and any(a[0][0] != b[0][0] and a[1][0] != b[1][0] for a, b in itertools.combinations(fam, 2)):
        kinds["marriage"] += 1
    dates = sorted(distinct(rs, "birth_date"))
    if any(len(a) == len(b) and sum(x != y for x, y in zip(a, b)) == 1 for a, b in itertools.combinations(dates, 2)):
        kinds["birth-date slip"] += 1
    nums = {(r["insurer_no"], r["insured_symbol"], r["insured_number"]) for r in rs if r["insured_number"]}
    for a, b in itertools.combinations(nums, 2):
        x, y = a[2], b[2]
        d = [i for i in range(len(x)) if len(x) == len(y) and x[i] != y[i]]
        if a[:2] == b[:2] and len(d) == 2 and d[1] == d[0] + 1 and x[d[0]] == y[d[1]] and x[d[1]] == y[d[0]]:
            kinds["番号 transposition"] += 1
# Hard non-matches, between different persons, on the clean checkup records.
chk = [r for r in ids if r["source"].isdigit() and r["family_name"] and r["given_name"] and r["given_kana"]
       and r["address"] and r["birth_date"]]
day = lambda s: datetime.date.fromisoformat(s)
house = defaultdict(list)
for r in chk: house[(r["family_name"], unicodedata.normalize("NFKC", r["address"]))].append(r)
for key, rs in house.items():
    for a, b in itertools.combinations(rs, 2):
        if a["p"] == b["p"]: continue
        same_name = a["given_name"] == b["given_name"]
        ka, kb = a["given_kana"], b["given_kana"]
        if a["birth_date"] == b["birth_date"] and a["sex"] == b["sex"] and len(ka) == len(kb) \
                and sum(x != y for x, y in zip(ka, kb)) == 1 and not same_name:
            kinds["twins one character apart"] += 1
        if a["sex"] != b["sex"] and abs((day(a["birth_date"]) - day(b["birth_date"])).days) == 1:
            kinds["opposite-sex twins a day apart"] += 1
        da, db = day(a["birth_date"]), day(b["birth_date"])
        if same_name and da.year == db.year and da.month == db.day and da.day == db.month and da != db:
            kinds["household namesakes, day and month swapped"] += 1
        if same_name and abs(da.year - db.year) >= 20:
            kinds["parent and child of one name"] += 1
name = defaultdict(list)
for r in chk: name[(r["family_name"], r["given_name"], r["birth_date"], r["sex"])].append(r)
for rs in name.values():
    for a, b in itertools.combinations(rs, 2):
        if a["p"] != b["p"] and unicodedata.normalize("NFKC", a["address"]) != unicodedata.normalize("NFKC", b["address"]):
            kinds["same name and birthday, strangers"] += 1
need = ["phr", "phr hiragana", "phr half-width", "checkup kanji", "move", "job change", "marriage",
        "番号 transposition", "birth-date slip", "twins one character apart", "opposite-sex twins a day apart",
        "household namesakes, day and month swapped", "parent and child of one name",
        "same name and birthday, strangers"]
for k in need: print("%-45s %d" % (k, kinds[k]))
missing = [k for k in need if kinds[k] < 3]
if missing: sys.exit("population lacks: " + ", ".join(missing))
PY

# The default population is not the multi-source one: no kana-only PHR records.
"$KENBANK" gen --people 300 --years 1 --seed 5 --out "$WORK/d" 2>/dev/null
# (awk, not grep -q in a pipe: under pipefail an early exit kills the writer)
awk -F, '$1 == "phr-1" && $3 != "" { k++ } END { exit !k }' "$WORK/d/identities.csv" ||
  fail "default PHR records lost their kanji"
echo ok
