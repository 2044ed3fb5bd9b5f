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
  if [ "$(kb_backend "$1")" = postgresql ]; then psql "$w" -X -q -At -v ON_ERROR_STOP=1 -c "$3"
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
