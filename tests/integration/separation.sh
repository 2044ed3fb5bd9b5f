#!/usr/bin/env bash
# Identity never enters the research store.  Generate a noisy multi-source
# population, import it (MHLW zips and CSV), then search the research store's
# files for every identity attribute value of every source record: names,
# kana, birth dates (two spellings), postal codes, addresses and insurer ids.
# The identity store must not hold them in clear either: it seals them.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
K="$KENBANK"
cd "$WORK"
fail() { echo "FAIL: $*" >&2; exit 1; }

"$K" gen --people 150 --years 2 --seed 11 --out pop --format both >/dev/null
"$K" init --data d >/dev/null
"$K" import --data d --source kenshin pop/xml >/dev/null
"$K" import --data d --source kenshin-csv pop/exams.csv >/dev/null
n=$("$K" stats --data d | awk '/exams \(current\)/ {print $3}')
[ "$n" -eq 600 ] || fail "expected 600 current exams, got $n"

# Values to look for, from the identities file and the exams' own identity
# columns.  Very short values (a 2-digit branch number, a 1-digit symbol)
# would match any binary file by chance, so digits need 6+ characters and
# text 2+ characters.
awk -F, 'NR > 1 { for (i = 3; i <= 14; i++) if (i != 7) print $i }' pop/identities.csv > values.txt
awk -F, 'NR > 1 { for (i = 5; i <= 16; i++) if (i != 13) print $i }' pop/exams.csv >> values.txt
# birth dates also as YYYYMMDD, the hc08 birthTime form
awk -F, 'NR > 1 && $8 ~ /^[0-9-]+$/ { gsub(/-/, "", $8); print $8 }' pop/identities.csv >> values.txt
LC_ALL=C awk '{ if ($0 ~ /^[0-9A-Za-z-]+$/) { if (length($0) >= 6) print } else if (length($0) >= 6) print }' values.txt \
  | sort -u > patterns.txt
[ "$(wc -l < patterns.txt)" -gt 500 ] || fail "too few identity values to search for: $(wc -l < patterns.txt)"

# positive control: the search finds the values where they are in clear
LC_ALL=C grep -a -F -c -f patterns.txt pop/identities.csv >/dev/null || fail "pattern search is broken"

found_in() { LC_ALL=C grep -a -o -F -f "$1" "$2" | sort -u | head -5; }

kb_dump d research research.dump
kb_dump d identity identity.dump
# negative control: the same dump with one name planted in it
name=$(awk '!/^[0-9A-Za-z-]+$/ { print; exit }' patterns.txt)
{ cat research.dump; printf '%s\n' "$name"; } > planted.dump
[ -n "$(found_in patterns.txt planted.dump)" ] || fail "the search cannot see a planted name"

if hits=$(found_in patterns.txt research.dump); [ -n "$hits" ]; then
  fail "identity values found in the research store: $hits"
fi
# names, kana and addresses are sealed in the identity store too
grep -v -E '^[0-9A-Za-z-]+$' patterns.txt > text_patterns.txt
if hits=$(found_in text_patterns.txt identity.dump); [ -n "$hits" ]; then
  fail "identity values in clear in the identity store: $hits"
fi
# and the research store does hold the medical data, under pseudonyms
kb_sql d research "SELECT pseudonym FROM subjects LIMIT 1" | grep -qE '^R-[0-9A-Z]{4}(-[0-9A-Z]{4}){3}-.$' \
  || fail "subjects are not pseudonymous"
[ "$(kb_sql d research "SELECT COUNT(*) FROM observations")" -gt 5000 ] || fail "observations missing"
echo ok
