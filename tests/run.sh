#!/usr/bin/env bash
# The full suite, as `make test` runs it.
#
# Pass 1 builds with gcc and runs the unit tests (cmocka) and the integration
# tests (scripts that drive the real binary).  Pass 2 rebuilds with clang under
# ASan+UBSan and runs the same tests again.  Browser tests run once, on the
# pass-1 binary.  The last line is "N passed, N failed", which CI reads.
set -u
cd "$(dirname "$0")/.."
ROOT=$(pwd)
export SHARED="${SHARED:-$ROOT/../shared}"
export KENSHIN="${KENSHIN:-$SHARED/data/kenshin}"
JOBS=$(nproc 2>/dev/null || echo 2)
PASS=0
FAIL=0
FAILED=()
ONLY="${ONLY:-}"   # ONLY=pattern runs the matching tests only

run_unit() { # $1 build dir, $2 label, [$3 file pattern, default test_*]
  local bin out p f
  for bin in "$1"/tests/${3:-test_*}; do
    [ -x "$bin" ] || continue
    [ -n "$ONLY" ] && [[ "$bin" != *$ONLY* ]] && continue
    out=$(cd "$ROOT" && "$bin" 2>&1)
    local rc=$?
    # cmocka interleaves stdout and stderr, so match anywhere on a line.
    p=$(printf '%s\n' "$out" | grep -o '\[  PASSED  \] [0-9]* test' | tail -1 | grep -o '[0-9]\+')
    f=$(printf '%s\n' "$out" | grep -o '\[  FAILED  \] [0-9]* test' | tail -1 | grep -o '[0-9]\+')
    p=${p:-0}; f=${f:-0}
    if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
    PASS=$((PASS + p)); FAIL=$((FAIL + f))
    if [ "$f" -ne 0 ]; then
      FAILED+=("$2 $(basename "$bin")")
      printf '%s\n' "$out" | tail -40
    fi
    printf '%-6s %-40s %3d passed, %d failed\n' "$2" "$(basename "$bin")" "$p" "$f"
  done
}

run_integration() { # $1 binary, $2 label
  local t out rc
  for t in tests/integration/*.sh; do
    [ -f "$t" ] || continue
    [ "$(basename "$t")" = lib.sh ] && continue
    # pg_* tests need PostgreSQL and run only in the pg pass; citus_* only
    # in the Citus pass, which runs the store tests of CITUS_TESTS and no others
    if [[ "$(basename "$t")" == pg_* ]] && { [ -z "${KENBANK_INIT_PG:-}" ] || [ -n "${KENBANK_INIT_CITUS:-}" ]; }; then continue; fi
    if [[ "$(basename "$t")" == citus_* ]] && [ -z "${KENBANK_INIT_CITUS:-}" ]; then continue; fi
    if [ -n "${KENBANK_INIT_CITUS:-}" ] && [[ "$(basename "$t")" != citus_* ]] \
      && [[ " $CITUS_TESTS " != *" $(basename "$t" .sh) "* ]]; then continue; fi
    # the pg pass needs only the tests that create a data directory
    if [ -n "${KENBANK_INIT_PG:-}" ] && ! grep -q 'init --data' "$t"; then continue; fi
    [ -n "$ONLY" ] && [[ "$t" != *$ONLY* ]] && continue
    local work; work=$(mktemp -d)
    out=$(cd "$ROOT" && KENBANK="$1" WORK="$work" timeout 900 bash "$t" 2>&1)
    rc=$?
    rm -rf "$work"
    if [ $rc -eq 0 ]; then
      PASS=$((PASS + 1)); printf '%-6s %-40s ok\n' "$2" "$(basename "$t")"
    else
      FAIL=$((FAIL + 1)); FAILED+=("$2 $(basename "$t")")
      printf '%s\n' "$out" | tail -40
      printf '%-6s %-40s FAILED (exit %d)\n' "$2" "$(basename "$t")" "$rc"
    fi
  done
}

echo "== pass 1: gcc"
if make -j"$JOBS" all unit >build.log 2>&1; then
  run_unit build gcc
  run_integration "$ROOT/build/kenbank" gcc
else
  tail -40 build.log; FAIL=$((FAIL + 1)); FAILED+=("gcc build")
fi

# Pass 1b: the same integration tests on PostgreSQL, in a throwaway cluster
# on a free local port.  `kenbank init` honours KENBANK_INIT_PG, so every
# test's data directory lands in its own pair of databases.
if [ -z "${SKIP_PG:-}" ] && [ -x "$ROOT/build/kenbank" ]; then
  echo "== pass 1b: PostgreSQL"
  PGTEST=$(mktemp -d /tmp/kenbank-pg.XXXXXX)
  if admin=$(bash scripts/pgtest.sh start "$PGTEST" 2>&1); then
    trap 'bash "$ROOT/scripts/pgtest.sh" stop "$PGTEST"' EXIT
    # Unit tests that take a PostgreSQL conninfo: test_store (COPY through
    # kb_bulk, migrations), test_merge (merges under the distribution guard).
    KENBANK_TEST_PG="$admin" run_unit build pg test_store
    KENBANK_TEST_PG="$admin" run_unit build pg test_merge
    KENBANK_INIT_PG="$admin" KENBANK_PGTEST_DIR="$PGTEST" run_integration "$ROOT/build/kenbank" pg
    bash scripts/pgtest.sh stop "$PGTEST"
    trap - EXIT
  else
    echo "$admin"; FAIL=$((FAIL + 1)); FAILED+=("pg cluster start")
  fi
fi

# Pass 1d: the store tests again with the research store distributed over a
# throwaway Citus cluster (a coordinator and two workers on loopback,
# scripts/citustest.sh), when Citus is installed or can be built
# (../shared/tools/citus-build.sh, idempotent).  KENBANK_INIT_CITUS makes
# every `kenbank init` of the tests a Citus init (docs/SCALING.md).  A subset,
# since imports are several times slower on Citus (docs/BENCHMARKS.md): imports
# with merges and corrections, review accept and split, check, cohort, export,
# the insurer report, portal and FHIR reads; citus_* tests (placement on
# both workers) run here only.  serve_api (the role matrix) is left to the
# other passes: on two loaded cores it alone took two to three minutes here.
CITUS_TESTS="link_import split report cohort export portal_api fhir_api"
if [ -z "${SKIP_CITUS:-}" ] && [ -x "$ROOT/build/kenbank" ]; then
  echo "== pass 1d: Citus"
  citus_t0=$(date +%s)
  if ! bash "$SHARED/tools/citus-build.sh" --check 2>/dev/null && [ -f "$SHARED/tools/citus-build.sh" ]; then
    bash "$SHARED/tools/citus-build.sh" >"$ROOT/build/citus-build.log" 2>&1 || tail -20 "$ROOT/build/citus-build.log"
  fi
  CITUSTEST=$(mktemp -d /tmp/kenbank-citus.XXXXXX)
  if out=$(bash scripts/citustest.sh start "$CITUSTEST" 2>&1); then
    trap 'bash "$ROOT/scripts/citustest.sh" stop "$CITUSTEST"' EXIT
    KENBANK_INIT_PG=$(sed -n 1p <<<"$out") KENBANK_INIT_CITUS=$(sed -n 2p <<<"$out") \
      run_integration "$ROOT/build/kenbank" citus
    bash scripts/citustest.sh stop "$CITUSTEST"
    trap - EXIT
  else
    echo "$out"; FAIL=$((FAIL + 1)); FAILED+=("citus cluster start")
  fi
  echo "citus  pass took $(( $(date +%s) - citus_t0 )) s"
fi

if [ -z "${SKIP_BROWSER:-}" ] && ls tests/browser/*.mjs >/dev/null 2>&1; then
  echo "== browser"
  for t in tests/browser/*.mjs; do
    [ -n "$ONLY" ] && [[ "$t" != *$ONLY* ]] && continue
    if out=$(KENBANK="$ROOT/build/kenbank" timeout 600 node "$t" 2>&1); then
      PASS=$((PASS + 1)); printf '%-6s %-40s ok\n' browser "$(basename "$t")"
    else
      FAIL=$((FAIL + 1)); FAILED+=("browser $(basename "$t")")
      printf '%s\n' "$out" | tail -40
      printf '%-6s %-40s FAILED\n' browser "$(basename "$t")"
    fi
  done
fi

# Pass 1c (before ASan, which exports its own options): ThreadSanitizer on
# what shares state between threads -- the audit batcher's hand-offs, the
# token cache, the server under the role-matrix test's requests, and the
# importer's reader and calling threads.
if [ -z "${SKIP_TSAN:-}" ]; then
  echo "== pass 1c: clang + TSan (threaded code)"
  if make -j"$JOBS" tsan >build-tsan.log 2>&1; then
    export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$ROOT/tests/sanitizer/tsan.supp"
    # clang 14's TSan runtime cannot start on kernels with more address-space
    # randomisation than it expects ("FATAL: ThreadSanitizer: unexpected
    # memory mapping"): that is the machine, not a race, so the pass is then
    # reported as skipped.  A race report is a WARNING and fails as usual.
    if build/tsan/kenbank --version 2>&1 | grep -q 'FATAL: ThreadSanitizer'; then
      echo "tsan   skipped: the TSan runtime cannot start on this kernel ($(uname -r))"
    else
      run_unit build/tsan tsan 'test_audit_batch'
      run_unit build/tsan tsan 'test_auth'
      # the server under the role matrix, and the importer's two threads
      # sharing an archive's settlements (the generator runs uninstrumented)
      for t in serve_api import_threads; do
        if [ -z "$ONLY" ] || [[ $t.sh == *$ONLY* ]]; then
          ONLY_SAVED=$ONLY; ONLY=$t
          KENBANK_GEN="$ROOT/build/kenbank" run_integration "$ROOT/build/tsan/kenbank" tsan
          ONLY=$ONLY_SAVED
        fi
      done
    fi
    unset TSAN_OPTIONS
  else
    tail -40 build-tsan.log; FAIL=$((FAIL + 1)); FAILED+=("tsan build")
  fi
fi

if [ -z "${SKIP_ASAN:-}" ]; then
  echo "== pass 2: clang + ASan/UBSan"
  export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:halt_on_error=1"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
  export LSAN_OPTIONS="suppressions=$ROOT/tests/sanitizer/lsan.supp"
  if make -j"$JOBS" asan >build-asan.log 2>&1; then
    export KB_SANITIZED=1
    run_unit build/asan asan
    run_integration "$ROOT/build/asan/kenbank" asan
  else
    tail -40 build-asan.log; FAIL=$((FAIL + 1)); FAILED+=("asan build")
  fi
fi

echo
for f in "${FAILED[@]+"${FAILED[@]}"}"; do echo "failed: $f"; done
echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
