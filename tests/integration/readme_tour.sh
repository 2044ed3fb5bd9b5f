#!/usr/bin/env bash
# The README's tour runs as written (issue 18): its shell block is taken
# from README.md itself and run in a scratch folder; no command may fail
# (exit 3, "partial: some records quarantined", is an answer, not a
# failure), and nothing may be written into the clone.  Two lines are left
# out on purpose and said so: `serve` runs until Ctrl-C, and the PostgreSQL
# init needs a server (the PostgreSQL pass covers init --pg).
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
K="$KENBANK"
fail() { echo "FAIL: $*" >&2; exit 1; }
cd "$WORK"

awk '/^## A short tour/ { in_tour = 1 } in_tour && /^```sh$/ { on = 1; next } on && /^```$/ { exit } on { print }' \
  "$ROOT/README.md" >tour.sh
[ "$(wc -l <tour.sh)" -gt 40 ] || fail "README tour block not found ($(wc -l <tour.sh) lines)"
grep -q '^R=\$PWD K=\$PWD/build/kenbank$' tour.sh || fail "the tour no longer starts from the repository"
grep -q ' serve --data d ' tour.sh || fail "the tour lost its serve line"
grep -q 'init --data pgdir --pg' tour.sh || fail "the tour lost its PostgreSQL line"
# From the repository, with this test's binary; without the two lines above.
sed -e "s|^R=\$PWD K=\$PWD/build/kenbank\$|R=$ROOT K=$K|" \
    -e '/ serve --data d /d' -e '/init --data pgdir --pg/d' tour.sh >run.sh

before=$(cd "$ROOT" && git status --porcelain 2>/dev/null | sort)
cat >wrap.sh <<'EOF'
set -E
trap 'rc=$?; if [ $rc -ne 3 ]; then echo "TOUR FAILED (exit $rc): $BASH_COMMAND" >&2; exit 1; fi' ERR
EOF
cat run.sh >>wrap.sh
(cd "$ROOT" && bash "$WORK/wrap.sh") >tour.out 2>tour.err || { tail -30 tour.err; fail "a tour command failed"; }
after=$(cd "$ROOT" && git status --porcelain 2>/dev/null | sort)
[ "$before" = "$after" ] || fail "the tour wrote into the clone: $(diff <(echo "$before") <(echo "$after"))"
# What the tour promises it shows.
grep -q 'exams accepted' tour.out || fail "import printed no summary"
grep -q 'imported' tour.out || fail "consent import printed nothing"
echo "ok: $(grep -c . run.sh) tour lines ran as written"
