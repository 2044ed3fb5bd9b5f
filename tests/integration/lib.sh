# Shared helpers for integration tests (source it).  They read the data
# directory's kenbank.conf, so the same test runs on SQLite and PostgreSQL.

# kb_backend DIR -> sqlite | postgresql
kb_backend() { sed -n 's/^backend=//p' "$1/kenbank.conf"; }

_kb_where() { # DIR identity|research
  if [ "$(kb_backend "$1")" = postgresql ]; then sed -n "s/^$2=//p" "$1/kenbank.conf"
  else echo "$1/$2.db"; fi
}

# kb_sql DIR identity|research "SQL" -> rows, fields separated by |
kb_sql() {
  local w; w=$(_kb_where "$1" "$2")
  # On the Citus pass the tests' own oracle queries may join across persons
  # (Citus then repartitions); kenbank itself runs with repartitioning off.
  local opts=${PGOPTIONS:-}
  [ -n "${KENBANK_INIT_CITUS:-}" ] && opts="$opts -c citus.enable_repartition_joins=on"
  if [ "$(kb_backend "$1")" = postgresql ]; then PGOPTIONS="$opts" psql "$w" -X -q -At -v ON_ERROR_STOP=1 -c "$3"
  else sqlite3 "$w" "$3"; fi
}

# kb_dump DIR identity|research FILE: every byte the store holds, as text
# (PostgreSQL) or the raw database files (SQLite, including WAL).
kb_dump() {
  local w; w=$(_kb_where "$1" "$2")
  if [ "$(kb_backend "$1")" = postgresql ]; then pg_dump "$w" > "$3"
  else
    : > "$3"
    local f; for f in "$w" "$w-wal" "$w-shm"; do [ -f "$f" ] && cat "$f" >> "$3"; done; return 0
  fi
}

# kb_wait_listening FILE PID [SECONDS]: waits until the server PID has
# printed "listening" into FILE; fails early when it exits, and after
# SECONDS (default 60) at most.  A fixed 10 s guess was too short for a
# server opening its pool under ASan on a loaded machine.
kb_wait_listening() {
  local _kb_i _kb_tries=$(( ${3:-60} * 10 ))
  for _kb_i in $(seq "$_kb_tries"); do
    grep -q listening "$1" 2>/dev/null && return 0
    kill -0 "$2" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

# kb_wait_until SECONDS CMD...: runs CMD every 0.1 s until it succeeds, at
# most SECONDS; the status is CMD's last.
kb_wait_until() {
  # odd local names: CMD may be a function that sets a global of its own,
  # and bash would let it overwrite a local of ours instead
  local _kb_i _kb_tries=$(( $1 * 10 )); shift
  for _kb_i in $(seq "$_kb_tries"); do "$@" && return 0; sleep 0.1; done
  "$@"
}

# kb_mkzip OUT ROOT ENTRY=SOURCE... : a zip written entry by entry, as a
# third-party tool would, including names no kenbank writer produces.
kb_mkzip() {
  python3 - "$@" <<'PY'
import sys, zipfile
out, root, *pairs = sys.argv[1:]
with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
    if root:
        for d in (root + "/", root + "/DATA/", root + "/CLAIMS/", root + "/XSD/"):
            z.writestr(zipfile.ZipInfo(d), b"")
    for p in pairs:
        name, src = p.split("=", 1)
        data = open(src, "rb").read() if src else b""
        z.writestr(zipfile.ZipInfo(name if name.startswith(("/", "..")) or not root else root + "/" + name), data)
PY
}
