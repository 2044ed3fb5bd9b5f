#!/usr/bin/env bash
# kenbank review show: both records side by side in columns that line up
# on a terminal whatever the script (kanji and kana take two columns), and
# a kanji name the hc08 format does not carry is said to be absent, not
# left blank.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
K="$KENBANK"
cd "$WORK"
fail() { echo "FAIL: $*" >&2; exit 1; }

"$K" gen --people 30 --years 1 --seed 5 --no-noise --out pop --format both >/dev/null 2>&1
"$K" init --data d >/dev/null
"$K" import --data d --source kenshin pop/xml >/dev/null 2>&1 || [ $? -eq 3 ]
kb_sql d identity "INSERT INTO review_queue (record_a, record_b, score, status, created_at)
  SELECT a.id, b.id, 3.0, 'pending', '2026-01-01T00:00:00.000Z' FROM person_records a
  JOIN person_records b ON b.id = a.id + 1 WHERE a.id = 1"
"$K" review show --data d --id 1 > show.txt
grep -q '住所 / address' show.txt || fail "no side-by-side identity: $(cat show.txt)"
grep -q '^氏名 / name *— (kana only / 漢字なし) *— (kana only / 漢字なし)' show.txt || fail "empty kanji name not explained: $(grep name show.txt)"
# the B column starts at the same terminal column on every row
python3 - show.txt <<'PY' || fail "columns do not line up: $(cat show.txt)"
import sys, unicodedata
def width(s): return sum(2 if unicodedata.east_asian_width(c) in 'WF' else 1 for c in s)
bad = []
for line in open(sys.argv[1], encoding='utf-8').read().splitlines()[2:]:
    # label (22 columns + 1), A (44 + 1): B starts at column 68
    col = 0
    for i, c in enumerate(line):
        if col >= 68: break
        col += width(c)
    if width(line) <= 68: continue  # nothing in column B
    if col != 68 or line[i - 1] != ' ' or line[i] == ' ': bad.append(line)
sys.exit(f"B not at column 68: {bad}" if bad else 0)
PY
echo ok
