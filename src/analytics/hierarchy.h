/* hierarchy.h -- generalisation hierarchies for anonymisation, and the string
 * dictionary they (and anon.c's tables) are encoded with.
 *
 * A hierarchy maps every original value (a "leaf", level 0) to one label per
 * level 1..height.  Levels must nest: two leaves that share a label at level
 * l share it at every level above, so each level is a coarsening of the one
 * below and the generalisation lattice is monotone.  Labels are interned per
 * level, so a (level, leaf) pair resolves to a small integer code and the
 * anonymisation engine never touches strings on its hot path.
 *
 * Hierarchies come from a CSV file (one row per value followed by its
 * generalisations, as ARX writes them) or are built programmatically, row by
 * row or as numeric interval bands with top and bottom coding. */
#ifndef KB_HIERARCHY_H
#define KB_HIERARCHY_H

#include <stddef.h>
#include <stdint.h>

#include "util/kb.h"

/* An insertion-ordered set of strings with dense ids 0..n-1. */
typedef struct kb_strdict {
    char **s;
    uint32_t n, cap;
    uint32_t *slot; /* open addressing, id + 1, 0 = empty */
    uint32_t nslot;
} kb_strdict;

void kb_strdict_init(kb_strdict *d);
void kb_strdict_free(kb_strdict *d);
/* Id of s, adding it when new (*added set to 1 then, when added is not NULL). */
uint32_t kb_strdict_intern(kb_strdict *d, const char *s, int *added);
/* Id of s, or -1. */
int64_t kb_strdict_find(const kb_strdict *d, const char *s);

typedef struct kb_hier kb_hier;

/* An empty hierarchy with nlevels levels (height + 1, at least 1).  name is
 * used in error messages (a file path, or what built it). */
kb_hier *kb_hier_new(const char *name, size_t nlevels);
void kb_hier_free(kb_hier *h);
/* Adds one leaf and its labels: vals[0] is the value, vals[i] its label at
 * level i; n must equal the number of levels.  line (0 = unknown) is quoted in
 * messages.  Fails on a duplicate leaf, a wrong field count, or a label whose
 * parent contradicts an earlier row (the levels would not nest). */
int kb_hier_add(kb_hier *h, const char *const *vals, size_t n, long line, kb_err *e);

/* Reads a hierarchy file: one row per value, sep-separated (';' for ARX). */
int kb_hier_read_csv(const char *path, char sep, kb_hier **out, kb_err *e);

/* Interval bands over numbers (age bands).  Level 0 is the value; level i
 * (1..nwidths) the band of width widths[i-1] aligned at lo, labelled "a-b"
 * (inclusive) when lo and the width are integers, "[a,b)" otherwise; values
 * below lo are bottom-coded to "<lo" and values at or above hi top-coded to
 * ">=hi" on every banded level; the last level is "*".  Each width must be a
 * multiple of the one before so that the bands nest.  The strings "<lo" and
 * ">=hi" themselves are accepted as values (see kb_anon_table_code_range).
 * A value that is not a number is an error naming it. */
typedef struct kb_interval_spec {
    double lo, hi;
    const double *widths;
    size_t nwidths;
} kb_interval_spec;
int kb_hier_intervals(const char *name, const char *const *values, size_t nvalues, const kb_interval_spec *spec,
                      kb_hier **out, kb_err *e);
/* The labels top/bottom coding uses for a bound: "<20", ">=90" (%g). */
void kb_hier_bound_label(char *dst, size_t size, int top, double bound);

const char *kb_hier_name(const kb_hier *h);
size_t kb_hier_levels(const kb_hier *h); /* height + 1 */
size_t kb_hier_leaves(const kb_hier *h);
/* Leaf index of a level-0 value, or -1. */
int64_t kb_hier_find(const kb_hier *h, const char *value);
/* Source line of a leaf (0 when built programmatically). */
long kb_hier_line(const kb_hier *h, uint32_t leaf);
/* Code of a leaf at a level; codes at level 0 are leaf indices. */
uint32_t kb_hier_code(const kb_hier *h, size_t level, uint32_t leaf);
/* Number of distinct codes at a level. */
uint32_t kb_hier_ncodes(const kb_hier *h, size_t level);
const char *kb_hier_label(const kb_hier *h, size_t level, uint32_t code);
/* Number of leaves a code covers (for information loss). */
uint32_t kb_hier_leafcount(const kb_hier *h, size_t level, uint32_t code);
/* One leaf that a code covers, to map codes between levels. */
uint32_t kb_hier_rep(const kb_hier *h, size_t level, uint32_t code);

#endif
