#!/usr/bin/env bash
# PostgreSQL only (run in the pg pass): identity and research live in two
# databases owned by two roles, and neither role can reach the other's data.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
K="$KENBANK"
cd "$WORK"
fail() { echo "FAIL: $*" >&2; exit 1; }
[ -n "${KENBANK_INIT_PG:-}" ] || fail "needs KENBANK_INIT_PG (the runner's pg pass sets it)"

"$K" init --data d >/dev/null
[ "$(kb_backend d)" = postgresql ] || fail "init did not use PostgreSQL"
[ "$(stat -c %a d/kenbank.conf)" = 600 ] || fail "kenbank.conf holds passwords and must be 0600"
id=$(sed -n 's/^identity=//p' d/kenbank.conf)
rs=$(sed -n 's/^research=//p' d/kenbank.conf)
rs_db=$(sed -n 's/.*dbname=\([^ ]*\).*/\1/p' <<<"$rs")
id_db=$(sed -n 's/.*dbname=\([^ ]*\).*/\1/p' <<<"$id")

# each role works in its own database
psql "$id" -X -At -c "SELECT value FROM kb_meta WHERE key = 'role'" | grep -qx identity || fail "identity db"
psql "$rs" -X -At -c "SELECT value FROM kb_meta WHERE key = 'role'" | grep -qx research || fail "research db"
# ...and cannot even connect to the other one
cross_rs=$(sed "s/dbname=$id_db/dbname=$rs_db/" <<<"$id")
cross_id=$(sed "s/dbname=$rs_db/dbname=$id_db/" <<<"$rs")
if psql "$cross_rs" -X -At -c "SELECT 1" >/dev/null 2>err1; then fail "identity role reached the research db"; fi
grep -q 'permission denied for database' err1 || fail "unexpected error: $(cat err1)"
if psql "$cross_id" -X -At -c "SELECT 1" >/dev/null 2>err2; then fail "research role reached the identity db"; fi
grep -q 'permission denied for database' err2 || fail "unexpected error: $(cat err2)"
# a wrong password is refused (real authentication, not trust)
bad=$(sed 's/password=[0-9a-f]*/password=wrong/' <<<"$rs")
if psql "$bad" -X -At -c "SELECT 1" >/dev/null 2>&1; then fail "wrong password accepted"; fi
# messages never echo the password
sed -i 's/^research=\(.*\)dbname=[^ ]*/research=\1dbname=nosuchdb/' d/kenbank.conf
if "$K" stats --data d 2>err3; then fail "stats on a missing database should fail"; fi
pw=$(sed -n 's/.*password=\([0-9a-f]*\).*/\1/p' <<<"$rs")
grep -q "$pw" err3 && fail "error message leaks the password"
grep -q 'nosuchdb' err3 || fail "error should name the database: $(cat err3)"
echo ok
