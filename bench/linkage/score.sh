#!/usr/bin/env bash
# score.sh TRUTH|--febrl ASSIGN.csv [REVIEW.csv]
#   prints "precision recall f1 records review_records review_share"
# Pairwise precision/recall/F1 of `kenbank link`'s assignment against the
# truth (gen's truth.csv: source,record_id,true_person; or --febrl, where
# rec-N-org and rec-N-dup-K are entity N), and the review share: distinct
# records that appear in a review pair, over all records (what a clerk has
# to look at).  Counts pairs per (person, entity) cell: C(n,2) summed.
set -euo pipefail
truth=$1 assign=$2 review=${3:-/dev/null}
[ "$truth" = --febrl ] && truth=/dev/null
awk -F, -v febrl="$([ "$1" = --febrl ] && echo 1 || echo 0)" '
  FNR == 1 { f++; next }
  f == 1 { t[$1 SUBSEP $2] = $3; next }
  f == 2 { if (febrl) { split($2, a, "-"); e = a[2] } else e = t[$1 SUBSEP $2]
           p = $3; n++
           tp += cell[p SUBSEP e]++; pred += byp[p]++; tru += bye[e]++; next }
  f == 3 { if (!(($2 SUBSEP $3) in inrev)) { inrev[$2 SUBSEP $3] = 1; nr++ }
           if (!(($5 SUBSEP $6) in inrev)) { inrev[$5 SUBSEP $6] = 1; nr++ } }
  END { pr = pred ? tp / pred : 1; rc = tru ? tp / tru : 1
        printf "%.4f %.4f %.4f %d %d %.4f\n", pr, rc, (pr + rc) ? 2 * pr * rc / (pr + rc) : 0, n, nr, n ? nr / n : 0 }
' <(echo h; [ "$truth" != /dev/null ] && cat "$truth" | tail -n +2 || true) "$assign" <(echo h; tail -n +2 "$review" 2>/dev/null || true)
