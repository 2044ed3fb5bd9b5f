#!/usr/bin/env bash
# make lint: the tree as it is passes, and a planted violation of each rule
# fails with that rule named (a lint that cannot fail proves nothing).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
K="$KENBANK"
fail() { echo "FAIL: $*" >&2; exit 1; }
LIB="$(dirname "$K")/libkenbank.a"
[ -f "$LIB" ] || fail "no $LIB beside $K"

out=$(python3 "$ROOT/tools/lint.py" --root "$ROOT" --lib "$LIB" --quiet-warnings) || { echo "$out"; fail "the tree does not pass its own lint"; }

# A copy of the sources to plant violations in, one at a time.
T="$WORK/tree"
mkdir -p "$T/docs"
cp -r "$ROOT/src" "$ROOT/tools" "$T/"; cp "$ROOT/docs/ARCHITECTURE.md" "$T/docs/"
expect() { # $1 rule, $2 text the message must hold
  local rc=0
  python3 "$T/tools/lint.py" --root "$T" --quiet-warnings >"$WORK/lint.out" 2>&1 || rc=$?
  [ $rc -eq 1 ] || { cat "$WORK/lint.out"; fail "$1: lint exited $rc on a planted violation"; }
  grep -q "error: .*: $1: .*$2" "$WORK/lint.out" || { cat "$WORK/lint.out"; fail "$1: not reported ($2)"; }
  rm -rf "$T/src" "$T/tools"; cp -r "$ROOT/src" "$ROOT/tools" "$T/"; cp "$ROOT/docs/ARCHITECTURE.md" "$T/docs/"
}

printf '#include "server/http.h"\n' >>"$T/src/domain/judge.c"
expect layer "src/domain/ may not include src/server/"

printf 'static const char *q = "DELETE FROM " "consents WHERE 1";\n' >>"$T/src/analytics/cohort.c"
expect owner "writes table consents, owned by consent/consent.c"

sed -i 's|/\* owner: consent/consent.c.  The texts|/* owner: consent/texts.c.  The texts|' "$T/src/store/schema.c"
expect owner "table consent_texts: owner src/consent/texts.c does not exist"

printf '    {99, "planted",\n     "CREATE TABLE planted (id INTEGER);"},\n' >>"$T/src/store/schema.c"
expect owner "table planted names no owner"

printf 'static const char *q = "SELECT 1; PRAGMA foreign_keys=OFF";\n' >>"$T/src/portal/points.c"
expect dialect "PRAGMA in SQL outside src/store/"

printf '#include <sqlite3.h>\n' >>"$T/src/biobank/label.c"
expect dialect "a database API outside src/store/"

printf 'static const char *q = "SELECT id::text FROM exams";\n' >>"$T/src/analytics/cohort.c"
expect dialect "PostgreSQL cast"

printf '#include <microhttpd.h>\n' >>"$T/src/cli/cli.c"
expect http "libmicrohttpd outside src/server/"

printf 'static int f(kb_db *db) { return db->in_tx; }\n' >>"$T/src/audit/audit.c"
expect in_tx "transaction state read outside src/store/"

sed -i 's/consent.c: kb_consent_allows/consent.c: kb_consent_decides/' "$T/docs/ARCHITECTURE.md"
expect docs "rule index: no function kb_consent_decides defined in src/consent/consent.c"

printf '/* See kb_long_gone_helper for why. */\n' >>"$T/src/util/kb.c"
expect docs "comment names kb_long_gone_helper, which no code defines or uses"

# A fixed exception must leave the allow-list.
rc=0; python3 "$T/tools/lint.py" --root "$T" --quiet-warnings >"$WORK/lint.out" 2>&1 || rc=$?
[ $rc -eq 0 ] || { cat "$WORK/lint.out"; fail "clean copy fails"; }
printf 'owner src/cli/cli.c exams # planted\n' >>"$T/tools/lint-allow.txt"
rc=0; python3 "$T/tools/lint.py" --root "$T" --quiet-warnings >"$WORK/lint.out" 2>&1 || rc=$?
[ $rc -eq 1 ] && grep -q "'owner src/cli/cli.c exams' allows nothing any more" "$WORK/lint.out" ||
  { cat "$WORK/lint.out"; fail "a stale exception is not reported"; }
printf 'owner src/cli/cli.c exams\n' >"$T/tools/lint-allow.txt"
rc=0; python3 "$T/tools/lint.py" --root "$T" --quiet-warnings >"$WORK/lint.out" 2>&1 || rc=$?
[ $rc -ne 0 ] && grep -q "every exception needs its reason" "$WORK/lint.out" ||
  { cat "$WORK/lint.out"; fail "an exception without a reason is accepted"; }
cp "$ROOT/tools/lint-allow.txt" "$T/tools/lint-allow.txt"

# Exported symbols: a library object with a global lacking kb_, and one
# with a kb_ function no other object uses (it should be static); kb_fine is
# used by another member, kb_tested only by a unit test.
printf 'int kb_fine(void) { return 1; }\nint helper_without_prefix(void) { return 2; }\nint kb_lonely(void) { return 3; }\nint kb_tested(void) { return 4; }\n' >"$WORK/x.c"
printf 'int kb_fine(void);\nint kb_user(void) { return kb_fine(); }\n' >"$WORK/y.c"
cc -c -o "$WORK/x.o" "$WORK/x.c"; cc -c -o "$WORK/y.o" "$WORK/y.c"
ar rcs "$WORK/libx.a" "$WORK/x.o" "$WORK/y.o"
mkdir -p "$T/tests/unit"; cp "$WORK/x.c" "$WORK/y.c" "$T/src/"
printf 'int kb_tested(void);\nint kb_user(void);\n' >"$T/tests/unit/test_x.c"
rc=0; python3 "$T/tools/lint.py" --root "$T" --lib "$WORK/libx.a" --quiet-warnings >"$WORK/lint.out" 2>&1 || rc=$?
[ $rc -eq 1 ] && grep -q "export: exported symbol 'helper_without_prefix' lacks the kb_ prefix" "$WORK/lint.out" ||
  { cat "$WORK/lint.out"; fail "export rule"; }
grep -q "src/x.c:3: export: 'kb_lonely' is used in its own file only: make it static" "$WORK/lint.out" ||
  { cat "$WORK/lint.out"; fail "single-file export not reported"; }
grep -q "kb_fine\|kb_tested\|kb_user" "$WORK/lint.out" && { cat "$WORK/lint.out"; fail "a used kb_ symbol reported"; }

# Long functions are warnings, not failures.
{ printf 'int kb_long(void) {\n'; for i in $(seq 130); do printf '    (void)%d;\n' "$i"; done; printf '    return 0;\n}\n'; } >>"$T/src/util/kb.c"
rc=0; python3 "$T/tools/lint.py" --root "$T" >"$WORK/lint.out" 2>&1 || rc=$?
grep -q "warning: src/util/kb.c:.*long: kb_long is 133 lines" "$WORK/lint.out" || { cat "$WORK/lint.out"; fail "long function not warned"; }
echo ok
