/* specimen.c -- specimens: vocabulary, SPREC, registration, lineage, status.
 * See specimen.h and docs/internals/biobank.md. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "audit/audit.h"
#include "biobank/specimen.h"
#include "biobank/storage.h"
#include "ident/vault.h"
#include "util/date.h"

/* MIABIS 2.0 "material type" terms, spelled as identifiers. */
static const char *const kb_specimen_types[] = {"serum", "plasma", "whole_blood", "buffy_coat", "pbmc", "frozen_tissue",
                                         "ffpe", "tissue", "dna", "rna", "cdna", "urine", "saliva", "faeces",
                                         "csf", "cells", "other", NULL};

int kb_specimen_type_valid(const char *type) {
    for (int i = 0; type && kb_specimen_types[i]; i++)
        if (strcmp(type, kb_specimen_types[i]) == 0) return 1;
    return 0;
}

int kb_specimen_type_solid(const char *type) {
    if (!type) return -1;
    if (!strcmp(type, "frozen_tissue") || !strcmp(type, "ffpe") || !strcmp(type, "tissue")) return 1;
    if (!strcmp(type, "dna") || !strcmp(type, "rna") || !strcmp(type, "cdna") || !strcmp(type, "other")) return -1;
    return 0;
}

static int kb_specimen_unit_valid(const char *unit) {
    static const char *const units[] = {"mL", "uL", "mg", "g", "ug", "ng", "block", "slide", "count", NULL};
    for (int i = 0; unit && units[i]; i++)
        if (strcmp(unit, units[i]) == 0) return 1;
    return 0;
}

/* ---- SPREC ----
 *
 * The Standard PREanalytical Code (ISBER Biospecimen Science Working Group;
 * Betsou et al., "Standard PREanalytical Code Version 3.0", Biopreservation
 * and Biobanking 16(1), 2018; structure as published for SPREC 2.0 in
 * Lehmann et al., Biopreserv Biobank 10(4):366-374, 2012) is seven elements
 * joined by '-'.  Element 1, the type of sample, decides which of two
 * tables the other six come from:
 *
 *   fluid: type, primary container, pre-centrifugation delay,
 *          centrifugation, second centrifugation, post-centrifugation
 *          delay, long-term storage
 *   solid: type, type of collection, warm ischemia time, cold ischemia
 *          time, fixation type, fixation time, long-term storage
 *
 * Three-letter elements are checked against the code lists below (XXX
 * unknown and ZZZ other are always allowed); one-letter elements against
 * the letter range of that position (X unknown, Z other, N not applicable
 * where the published table has it).  The lists are our own transcription
 * of the codes we need; a code missing here is refused, never guessed. */
static const char *const sprec_fluid_types[] = {
    "ASC", "AMN", "BAL", "BLD", "BMA", "BMK", "BUC", "BUF", "BFF", "CEL", "CEN", "CLN", "CRD", "CSF", "DWB",
    "NAS", "PEL", "PEN", "PFL", "PL1", "PL2", "RBC", "SAL", "SEM", "SER", "SPT", "STL", "SYN", "TER", "U24",
    "URN", "URM", "URT", "DNA", "RNA", "ZZZ", "XXX", NULL};
static const char *const sprec_containers[] = {
    "ACD", "ADD", "CAT", "CPD", "CPT", "EDG", "HEP", "HIR", "LHG", "ORG", "PAX", "PED", "PET", "PI1", "PIX",
    "PPS", "PXD", "PXR", "SCI", "SHP", "SPO", "SST", "TEM", "TRC", "XXX", "ZZZ", NULL};
static const char *const sprec_solid_types[] = {"TIS", "FNA", "LCM", "BON", "HAR", "NAL", "PLC", "TTH",
                                                "CEN", "DNA", "RNA", "XXX", "ZZZ", NULL};
static const char *const sprec_collections[] = {"SRG", "BPS", "CUR", "FNA", "PUN", "ASP", "XXX", "ZZZ", NULL};
static const char *const sprec_fixations[] = {"ACA", "ALD", "ALL", "ETH", "FOR", "HOP", "NBF", "OCT", "PXT",
                                              "RNL", "SNP", "NON", "XXX", "ZZZ", NULL};

typedef struct sprec_pos {
    const char *name;
    const char *const *codes; /* three-letter list, or NULL */
    const char *letters;      /* allowed single letters */
} sprec_pos;

static const sprec_pos sprec_fluid[7] = {
    {"type of sample", sprec_fluid_types, NULL},
    {"type of primary container", sprec_containers, NULL},
    {"pre-centrifugation delay", NULL, "ABCDEFGHIJKLNXZ"},
    {"centrifugation", NULL, "ABCDEFGHIJMNXZ"},
    {"second centrifugation", NULL, "ABCDEFGHIJMNXZ"},
    {"post-centrifugation delay", NULL, "ABCDEFGHIJNXZ"},
    {"long-term storage", NULL, "ABCDEFGHIJKLMNOPQXZ"},
};
static const sprec_pos sprec_solid[7] = {
    {"type of sample", sprec_solid_types, NULL},
    {"type of collection", sprec_collections, NULL},
    {"warm ischemia time", NULL, "ABCDEFNXZ"},
    {"cold ischemia time", NULL, "ABCDEFGNXZ"},
    {"fixation type", sprec_fixations, NULL},
    {"fixation time", NULL, "ABCDEFGNXZ"},
    {"long-term storage", NULL, "ABCDEFGHIJKLMNOPQXZ"},
};

static int in_list(const char *const *l, const char *s) {
    for (int i = 0; l[i]; i++)
        if (strcmp(l[i], s) == 0) return 1;
    return 0;
}

static int sprec_check(const sprec_pos *tab, char parts[7][8], const char *code, const char *table, kb_err *e) {
    for (int i = 0; i < 7; i++) {
        const sprec_pos *p = &tab[i];
        int ok = p->codes ? (strlen(parts[i]) == 3 && in_list(p->codes, parts[i]))
                          : (strlen(parts[i]) == 1 && strchr(p->letters, parts[i][0]) != NULL);
        if (!ok)
            return kb_errf(e, "field sprec: '%s' position %d (%s, %s sample) has '%s', not an allowed %s", code, i + 1,
                           p->name, table, parts[i], p->codes ? "three-letter code" : "letter");
    }
    return C_OK;
}

int kb_sprec_validate(const char *code, const char *type, kb_err *e) {
    char parts[7][8];
    int n = 0;
    const char *s = code;
    if (!code || !*code) return kb_errf(e, "field sprec: empty code");
    for (;;) {
        const char *dash = strchr(s, '-');
        size_t len = dash ? (size_t)(dash - s) : strlen(s);
        if (n == 7) return kb_errf(e, "field sprec: '%s' has too many elements (rule: exactly 7 joined by '-')", code);
        if (len == 0 || len > 3)
            return kb_errf(e, "field sprec: '%s' element %d must be 1 or 3 characters (rule: 7 elements joined by '-')",
                           code, n + 1);
        memcpy(parts[n], s, len);
        parts[n][len] = '\0';
        n++;
        if (!dash) break;
        s = dash + 1;
    }
    if (n != 7) return kb_errf(e, "field sprec: '%s' has too few elements (rule: exactly 7 joined by '-')", code);
    int fluid = in_list(sprec_fluid_types, parts[0]), solid = in_list(sprec_solid_types, parts[0]);
    /* DNA/RNA/XXX/ZZZ appear in both tables: element 2 then decides. */
    if (fluid && solid) {
        if (in_list(sprec_collections, parts[1]) && !in_list(sprec_containers, parts[1])) fluid = 0;
        else solid = 0;
    }
    if (!fluid && !solid)
        return kb_errf(e, "field sprec: '%s' position 1 (type of sample) '%s' is in neither the fluid nor the solid table",
                       code, parts[0]);
    int want = kb_specimen_type_solid(type);
    if (want == 1 && !solid)
        return kb_errf(e, "field sprec: '%s' is a fluid code but type %s is solid tissue (rule: SPREC table matches type)",
                       code, type);
    if (want == 0 && !fluid)
        return kb_errf(e, "field sprec: '%s' is a solid-tissue code but type %s is a fluid (rule: SPREC table matches type)",
                       code, type);
    return sprec_check(solid ? sprec_solid : sprec_fluid, parts, code, solid ? "solid" : "fluid", e);
}

static int date_valid(const char *s) { return kb_date_valid(s); }

int kb_specimen_check(const kb_specimen *s, const char **field, kb_err *e) {
    const char *f = NULL;
    int rc = C_OK;
    if (!kb_pseudonym_valid(s->pseudonym)) {
        f = "donor";
        rc = kb_errf(e, "field donor: '%s' is not a research pseudonym (rule: R-XXXX-XXXX-XXXX-XXXX-C with check character)",
                     s->pseudonym);
    } else if (!kb_specimen_type_valid(s->type)) {
        f = "type";
        rc = kb_errf(e, "field type: '%s' is not a MIABIS sample type (serum, plasma, whole_blood, buffy_coat, "
                        "frozen_tissue, ffpe, dna, rna, urine, saliva, ...)", s->type);
    } else if (!date_valid(s->collected_on)) {
        f = "collected_on";
        rc = kb_errf(e, "field collected_on: '%s' is not a date (rule: YYYY-MM-DD)", s->collected_on);
    } else if (!(s->quantity > 0) || !isfinite(s->quantity)) {
        f = "quantity";
        rc = kb_errf(e, "field quantity: %g (rule: a positive number)", s->quantity);
    } else if (!kb_specimen_unit_valid(s->unit)) {
        f = "unit";
        rc = kb_errf(e, "field unit: '%s' (rule: one of mL, uL, mg, g, ug, ng, block, slide, count)", s->unit);
    } else if (s->sprec[0] && kb_sprec_validate(s->sprec, s->type, e)) {
        f = "sprec";
        rc = C_ERR;
    } else if (strlen(s->barcode) > 0) {
        for (const char *p = s->barcode; *p; p++)
            if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_' && *p != '.') {
                f = "barcode";
                rc = kb_errf(e, "field barcode: '%s' (rule: letters, digits, '-', '_', '.')", s->barcode);
                break;
            }
    }
    if (field) *field = f;
    return rc;
}

int kb_biobank_donor(kb_data *d, const char *pseudonym, const char *source, const char *record,
                     char out[KB_PSEUDONYM_LEN], int64_t *person_id, kb_err *e) {
    *person_id = 0;
    if (source && *source) {
        if (!record || !*record) return kb_errf(e, "field donor_record: missing (rule: given with donor_source)");
        int64_t pid = 0;
        if (kb_vault_find_record(d, source, record, &pid, e)) return C_ERR;
        if (!pid)
            return kb_errf(e, "field donor_record: no record '%s' from source '%s' in the identity store "
                              "(rule: donor must be a known person)", record, source);
        kb_pseudonym_research(&d->keys, pid, out);
        *person_id = pid;
        return C_OK;
    }
    if (!pseudonym || !kb_pseudonym_valid(pseudonym))
        return kb_errf(e, "field donor: '%s' is not a research pseudonym (rule: give a pseudonym or "
                          "donor_source + donor_record)", pseudonym ? pseudonym : "");
    kb_strlcpy(out, pseudonym, KB_PSEUDONYM_LEN);
    return C_OK;
}

/* ---- transactions ---- */

static int audit(kb_data *d, const kb_actor *a, const char *action, const char *pseud, const char *detail,
                 kb_err *e) {
    return kb_audit_append(d, a->name, a->role, action, pseud, "biobank", "ok", detail, e);
}

/* ---- rows ---- */

#define SPEC_COLS                                                                                          \
    "s.id, s.barcode, s.pseudonym, s.event, s.collected_on, s.type, s.site, s.sprec, s.quantity, s.unit, " \
    "s.lineage, s.parent_id, s.status, s.freeze_thaw, COALESCE(p.barcode, '')"

static void kb_bb_row_specimen(kb_stmt *st, kb_specimen *s) {
    memset(s, 0, sizeof *s);
    s->id = kb_col_int(st, 0);
    kb_strlcpy(s->barcode, kb_col_text(st, 1), sizeof s->barcode);
    kb_strlcpy(s->pseudonym, kb_col_text(st, 2), sizeof s->pseudonym);
    kb_strlcpy(s->event, kb_col_text(st, 3), sizeof s->event);
    kb_strlcpy(s->collected_on, kb_col_text(st, 4), sizeof s->collected_on);
    kb_strlcpy(s->type, kb_col_text(st, 5), sizeof s->type);
    kb_strlcpy(s->site, kb_col_text(st, 6), sizeof s->site);
    kb_strlcpy(s->sprec, kb_col_text(st, 7), sizeof s->sprec);
    s->quantity = kb_col_double(st, 8);
    kb_strlcpy(s->unit, kb_col_text(st, 9), sizeof s->unit);
    kb_strlcpy(s->lineage, kb_col_text(st, 10), sizeof s->lineage);
    s->parent_id = kb_col_is_null(st, 11) ? 0 : kb_col_int(st, 11);
    kb_strlcpy(s->status, kb_col_text(st, 12), sizeof s->status);
    s->freeze_thaw = (int)kb_col_int(st, 13);
    kb_strlcpy(s->parent_barcode, kb_col_text(st, 14), sizeof s->parent_barcode);
}

int kb_specimen_get(kb_data *d, const char *barcode, kb_specimen *s, kb_err *e) {
    kb_stmt *st;
    if (kb_db_cached(d->research,
                     "SELECT " SPEC_COLS " FROM bb_specimens s LEFT JOIN bb_specimens p ON p.id = s.parent_id "
                     "WHERE s.barcode = ?", &st, e))
        return C_ERR;
    kb_bind_text(st, 1, barcode);
    int r = kb_stmt_step(st, e);
    if (r == 1) {
        kb_bb_row_specimen(st, s);
        kb_stmt_reset(st);
    }
    return r;
}

int kb_specimen_each(kb_data *d, const char *status, const char *type, long limit,
                     int (*cb)(void *arg, const kb_specimen *s), void *arg, kb_err *e) {
    kb_stmt *st;
    if (kb_db_cached(d->research,
                     "SELECT " SPEC_COLS " FROM bb_specimens s LEFT JOIN bb_specimens p ON p.id = s.parent_id "
                     "WHERE s.status = COALESCE(?, s.status) AND s.type = COALESCE(?, s.type) ORDER BY s.id LIMIT ?",
                     &st, e))
        return C_ERR;
    kb_bind_text(st, 1, status);
    kb_bind_text(st, 2, type);
    kb_bind_int(st, 3, limit > 0 ? limit : INT64_MAX);
    int r;
    kb_specimen s;
    while ((r = kb_stmt_step(st, e)) == 1) {
        kb_bb_row_specimen(st, &s);
        if (cb(arg, &s)) {
            kb_stmt_reset(st);
            return C_OK;
        }
    }
    return r < 0 ? C_ERR : C_OK;
}

/* Inserts s (already checked); fills id and, when empty, the barcode. */
int kb_bb_insert_specimen(kb_data *d, kb_specimen *s, kb_err *e);
int kb_bb_insert_specimen(kb_data *d, kb_specimen *s, kb_err *e) {
    kb_stmt *st;
    char now[32];
    kb_audit_now(now);
    int gen = s->barcode[0] == '\0';
    if (gen) { /* placeholder until the id is known; random so writers never collide */
        unsigned char rnd[12];
        randombytes_buf(rnd, sizeof rnd);
        char *p = s->barcode + sprintf(s->barcode, "tmp-");
        for (size_t i = 0; i < sizeof rnd; i++) p += sprintf(p, "%02x", rnd[i]);
    }
    if (!s->lineage[0]) kb_strlcpy(s->lineage, "primary", sizeof s->lineage);
    if (!s->status[0]) kb_strlcpy(s->status, "available", sizeof s->status);
    if (kb_db_cached(d->research,
                     "INSERT INTO bb_specimens (barcode, pseudonym, event, collected_on, type, site, sprec, quantity, "
                     "unit, lineage, parent_id, status, freeze_thaw, created_at, updated_at) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?) RETURNING id", &st, e))
        return C_ERR;
    kb_bind_text(st, 1, s->barcode);
    kb_bind_text(st, 2, s->pseudonym);
    kb_bind_text(st, 3, s->event);
    kb_bind_text(st, 4, s->collected_on);
    kb_bind_text(st, 5, s->type);
    kb_bind_text(st, 6, s->site);
    kb_bind_text(st, 7, s->sprec);
    kb_bind_double(st, 8, s->quantity);
    kb_bind_text(st, 9, s->unit);
    kb_bind_text(st, 10, s->lineage);
    if (s->parent_id) kb_bind_int(st, 11, s->parent_id);
    else kb_bind_null(st, 11);
    kb_bind_text(st, 12, s->status);
    kb_bind_text(st, 13, now);
    kb_bind_text(st, 14, now);
    int r = kb_stmt_step(st, e);
    if (r != 1) {
        if (r == 0) kb_errf(e, "insert returned no id");
        return kb_err_prefix(e, "specimen %s: ", gen ? "(new)" : s->barcode);
    }
    s->id = kb_col_int(st, 0);
    kb_stmt_reset(st);
    if (gen) {
        snprintf(s->barcode, sizeof s->barcode, "KB%08lld", (long long)s->id);
        if (kb_db_cached(d->research, "UPDATE bb_specimens SET barcode = ? WHERE id = ?", &st, e)) return C_ERR;
        kb_bind_text(st, 1, s->barcode);
        kb_bind_int(st, 2, s->id);
        if (kb_stmt_step(st, e) < 0) return C_ERR;
    }
    return C_OK;
}

int kb_bb_link_identity(kb_data *d, int64_t person_id, const char *source, const char *record, const char *barcode,
                        kb_err *e);
int kb_bb_link_identity(kb_data *d, int64_t person_id, const char *source, const char *record, const char *barcode,
                        kb_err *e) {
    kb_stmt *st;
    char now[32];
    kb_audit_now(now);
    if (kb_db_cached(d->identity,
                     "INSERT INTO biobank_registrations (person_id, source, record_id, barcode, created_at) "
                     "VALUES (?, ?, ?, ?, ?)", &st, e))
        return C_ERR;
    kb_bind_int(st, 1, person_id);
    kb_bind_text(st, 2, source);
    kb_bind_text(st, 3, record);
    kb_bind_text(st, 4, barcode);
    kb_bind_text(st, 5, now);
    return kb_stmt_step(st, e) < 0 ? kb_err_prefix(e, "identity link of %s: ", barcode) : C_OK;
}

typedef struct reg_arg {
    const kb_actor *a;
    kb_specimen *s;
} reg_arg;

static int do_register(kb_data *d, void *arg, kb_err *e) {
    reg_arg *ra = arg;
    if (kb_bb_insert_specimen(d, ra->s, e)) return C_ERR;
    char det[256];
    snprintf(det, sizeof det, "specimen=%s type=%s qty=%g%s event=%s", ra->s->barcode, ra->s->type, ra->s->quantity,
             ra->s->unit, ra->s->event);
    return audit(d, ra->a, "specimen.register", ra->s->pseudonym, det, e);
}

int kb_specimen_register(kb_data *d, const kb_actor *a, kb_specimen *s, const char *source, const char *record,
                         kb_err *e) {
    int64_t pid = 0;
    char ps[KB_PSEUDONYM_LEN];
    if (kb_biobank_donor(d, s->pseudonym, source, record, ps, &pid, e)) return C_ERR;
    kb_strlcpy(s->pseudonym, ps, sizeof s->pseudonym);
    s->parent_id = 0;
    kb_strlcpy(s->lineage, "primary", sizeof s->lineage);
    kb_strlcpy(s->status, "available", sizeof s->status);
    if (kb_specimen_check(s, NULL, e)) return C_ERR;
    reg_arg ra = {a, s};
    if (kb_research_tx(d, do_register, &ra, e)) return C_ERR;
    /* The identity link is written after the research row commits: a crash
     * in between leaves a specimen without its link, which registration
     * by pseudonym can repair, never a link to a specimen that is not there. */
    if (pid && kb_bb_link_identity(d, pid, source, record, s->barcode, e)) return C_ERR;
    return C_OK;
}

/* ---- status ---- */

static const struct {
    const char *from;
    const char *const to[4];
} status_table[] = {
    {"available", {"reserved", "consumed", "destroyed", NULL}},
    {"reserved", {"available", "distributed", "destroyed", NULL}},
    {"distributed", {NULL}},
    {"consumed", {NULL}},
    {"destroyed", {NULL}},
};

static const char *const *kb_specimen_next_status(const char *from) {
    for (size_t i = 0; from && i < KB_ARRAY_LEN(status_table); i++)
        if (strcmp(status_table[i].from, from) == 0) return status_table[i].to;
    return NULL;
}

typedef struct st_arg {
    const kb_actor *a;
    const char *barcode, *to, *why;
    int thaw;
} st_arg;

static int do_status(kb_data *d, void *arg, kb_err *e) {
    st_arg *sa = arg;
    kb_specimen s;
    int r = kb_specimen_get(d, sa->barcode, &s, e);
    if (r < 0) return C_ERR;
    if (r == 0) return kb_errf(e, "specimen %s: no such barcode", sa->barcode);
    const char *const *next = kb_specimen_next_status(s.status);
    int ok = 0;
    char allowed[128] = "";
    for (int i = 0; next && next[i]; i++) {
        if (strcmp(next[i], sa->to) == 0) ok = 1;
        snprintf(allowed + strlen(allowed), sizeof allowed - strlen(allowed), "%s%s", i ? ", " : "", next[i]);
    }
    if (!ok)
        return kb_errf(e, "specimen %s: status %s -> %s is not allowed (allowed from %s: %s)", sa->barcode, s.status,
                       sa->to, s.status, allowed[0] ? allowed : "none, final");
    kb_stmt *st;
    char now[32];
    kb_audit_now(now);
    /* The status in the WHERE makes a concurrent change lose cleanly. */
    if (kb_db_cached(d->research, "UPDATE bb_specimens SET status = ?, updated_at = ? WHERE id = ? AND status = ?",
                     &st, e))
        return C_ERR;
    kb_bind_text(st, 1, sa->to);
    kb_bind_text(st, 2, now);
    kb_bind_int(st, 3, s.id);
    kb_bind_text(st, 4, s.status);
    if (kb_stmt_step(st, e) < 0) return C_ERR;
    if (!strcmp(sa->to, "distributed") || !strcmp(sa->to, "consumed") || !strcmp(sa->to, "destroyed"))
        if (kb_storage_unplace(d, sa->a, s.id, sa->barcode, s.pseudonym, e)) return C_ERR;
    char det[256];
    snprintf(det, sizeof det, "specimen=%s %s->%s%s%s", sa->barcode, s.status, sa->to, sa->why ? " " : "",
             sa->why ? sa->why : "");
    return audit(d, sa->a, "specimen.status", s.pseudonym, det, e);
}

int kb_specimen_set_status(kb_data *d, const kb_actor *a, const char *barcode, const char *to, const char *why,
                           kb_err *e) {
    if (!kb_specimen_next_status(to))
        return kb_errf(e, "field status: '%s' (rule: available, reserved, distributed, consumed, destroyed)", to);
    st_arg sa = {a, barcode, to, why, 0};
    return kb_research_tx(d, do_status, &sa, e);
}

typedef struct thaw_arg {
    const kb_actor *a;
    const char *barcode;
    int count;
} thaw_arg;

static int do_thaw(kb_data *d, void *arg, kb_err *e) {
    thaw_arg *ta = arg;
    kb_specimen s;
    int r = kb_specimen_get(d, ta->barcode, &s, e);
    if (r < 0) return C_ERR;
    if (r == 0) return kb_errf(e, "specimen %s: no such barcode", ta->barcode);
    if (strcmp(s.status, "available") && strcmp(s.status, "reserved"))
        return kb_errf(e, "specimen %s: is %s, not in the bank (rule: thaw only available or reserved)", ta->barcode,
                       s.status);
    kb_stmt *st;
    if (kb_db_cached(d->research, "UPDATE bb_specimens SET freeze_thaw = freeze_thaw + 1 WHERE id = ?", &st, e))
        return C_ERR;
    kb_bind_int(st, 1, s.id);
    if (kb_stmt_step(st, e) < 0) return C_ERR;
    ta->count = s.freeze_thaw + 1;
    char det[128];
    snprintf(det, sizeof det, "specimen=%s freeze_thaw=%d", ta->barcode, ta->count);
    return audit(d, ta->a, "specimen.thaw", s.pseudonym, det, e);
}

int kb_specimen_thaw(kb_data *d, const kb_actor *a, const char *barcode, int *count, kb_err *e) {
    thaw_arg ta = {a, barcode, 0};
    if (kb_research_tx(d, do_thaw, &ta, e)) return C_ERR;
    if (count) *count = ta.count;
    return C_OK;
}

/* ---- lineage ---- */

typedef struct der_arg {
    const kb_actor *a;
    const char *parent, *lineage, *type, *unit;
    double qty;
    kb_specimen *out;
    const char *const *members;
    int n;
} der_arg;

static int do_derive(kb_data *d, void *arg, kb_err *e) {
    der_arg *da = arg;
    kb_specimen p;
    int r = kb_specimen_get(d, da->parent, &p, e);
    if (r < 0) return C_ERR;
    if (r == 0) return kb_errf(e, "field parent: no specimen %s", da->parent);
    if (strcmp(p.status, "available"))
        return kb_errf(e, "field parent: specimen %s is %s (rule: derive only from available specimens)", da->parent,
                       p.status);
    kb_specimen tmp, *s = &tmp;
    memset(s, 0, sizeof *s);
    kb_strlcpy(s->pseudonym, p.pseudonym, sizeof s->pseudonym);
    kb_strlcpy(s->event, p.event, sizeof s->event);
    kb_strlcpy(s->collected_on, p.collected_on, sizeof s->collected_on);
    kb_strlcpy(s->site, p.site, sizeof s->site);
    kb_strlcpy(s->lineage, da->lineage, sizeof s->lineage);
    s->parent_id = p.id;
    s->quantity = da->qty;
    int aliquot = strcmp(da->lineage, "aliquot") == 0;
    if (aliquot) {
        kb_strlcpy(s->type, p.type, sizeof s->type);
        kb_strlcpy(s->unit, p.unit, sizeof s->unit);
        kb_strlcpy(s->sprec, p.sprec, sizeof s->sprec);
        if (da->unit && *da->unit && strcmp(da->unit, p.unit))
            return kb_errf(e, "field unit: aliquot of %s must be in the parent's unit %s, got %s", p.barcode, p.unit,
                           da->unit);
        if (da->qty > p.quantity + 1e-9)
            return kb_errf(e, "field quantity: aliquot %g%s exceeds what is left of %s (%g%s)", da->qty, p.unit,
                           p.barcode, p.quantity, p.unit);
    } else {
        kb_strlcpy(s->type, da->type ? da->type : "", sizeof s->type);
        kb_strlcpy(s->unit, da->unit ? da->unit : "", sizeof s->unit);
    }
    if (kb_specimen_check(s, NULL, e)) return C_ERR;
    if (kb_bb_insert_specimen(d, s, e)) return C_ERR;
    kb_strlcpy(s->parent_barcode, p.barcode, sizeof s->parent_barcode);
    if (aliquot) {
        kb_stmt *st;
        if (kb_db_cached(d->research, "UPDATE bb_specimens SET quantity = quantity - ? WHERE id = ?", &st, e))
            return C_ERR;
        kb_bind_double(st, 1, da->qty);
        kb_bind_int(st, 2, p.id);
        if (kb_stmt_step(st, e) < 0) return C_ERR;
    }
    char det[256];
    snprintf(det, sizeof det, "specimen=%s %s of %s type=%s qty=%g%s", s->barcode, da->lineage, p.barcode, s->type,
             s->quantity, s->unit);
    if (audit(d, da->a, "specimen.derive", s->pseudonym, det, e)) return C_ERR;
    *da->out = tmp;
    return C_OK;
}

int kb_specimen_derive(kb_data *d, const kb_actor *a, const char *parent, const char *lineage, const char *type,
                       double quantity, const char *unit, kb_specimen *out, kb_err *e) {
    if (!lineage || (strcmp(lineage, "aliquot") && strcmp(lineage, "derivative")))
        return kb_errf(e, "field lineage: '%s' (rule: aliquot or derivative; pools use kb_specimen_pool)",
                       lineage ? lineage : "");
    der_arg da = {a, parent, lineage, type, unit, quantity, out, NULL, 0};
    return kb_research_tx(d, do_derive, &da, e);
}

static int do_pool(kb_data *d, void *arg, kb_err *e) {
    der_arg *da = arg;
    kb_specimen *s = da->out, m;
    int64_t ids[64];
    for (int i = 0; i < da->n; i++) {
        int r = kb_specimen_get(d, da->members[i], &m, e);
        if (r < 0) return C_ERR;
        if (r == 0) return kb_errf(e, "field members: no specimen %s", da->members[i]);
        if (strcmp(m.status, "available"))
            return kb_errf(e, "field members: %s is %s (rule: pool only available specimens)", m.barcode, m.status);
        if (i == 0) {
            memset(s, 0, sizeof *s);
            *s = m;
            s->quantity = 0;
            s->sprec[0] = '\0';
            kb_strlcpy(s->lineage, "pool", sizeof s->lineage);
            s->parent_id = m.id;
            s->barcode[0] = '\0';
        } else if (strcmp(m.pseudonym, s->pseudonym) || strcmp(m.type, s->type) || strcmp(m.unit, s->unit)) {
            /* A pool across donors could not honour each donor's consent
             * separately, so pools stay within one donor. */
            return kb_errf(e, "field members: %s differs from %s in donor, type or unit (rule: pool one donor, one "
                              "type, one unit)", m.barcode, da->members[0]);
        }
        s->quantity += m.quantity;
        ids[i] = m.id;
    }
    kb_strlcpy(s->status, "available", sizeof s->status);
    if (kb_bb_insert_specimen(d, s, e)) return C_ERR;
    kb_stmt *st;
    for (int i = 0; i < da->n; i++) {
        if (kb_db_cached(d->research, "INSERT INTO bb_pool_members (pool_id, member_id) VALUES (?, ?)", &st, e))
            return C_ERR;
        kb_bind_int(st, 1, s->id);
        kb_bind_int(st, 2, ids[i]);
        if (kb_stmt_step(st, e) < 0) return C_ERR;
        st_arg sa = {da->a, da->members[i], "consumed", "pooled", 0};
        char why[96];
        snprintf(why, sizeof why, "pooled into %s", s->barcode);
        sa.why = why;
        if (do_status(d, &sa, e)) return C_ERR;
    }
    char det[160];
    snprintf(det, sizeof det, "specimen=%s pool of %d", s->barcode, da->n);
    return audit(d, da->a, "specimen.pool", s->pseudonym, det, e);
}

int kb_specimen_pool(kb_data *d, const kb_actor *a, const char *const *members, int n, kb_specimen *out,
                     kb_err *e) {
    if (n < 2 || n > 64) return kb_errf(e, "field members: %d specimens (rule: pool 2..64)", n);
    der_arg da = {a, NULL, "pool", NULL, NULL, 0, out, members, n};
    return kb_research_tx(d, do_pool, &da, e);
}

int kb_biobank_available_by_type(kb_data *d, const char *pseudonym, const char *type, int *count, kb_err *e) {
    kb_stmt *st;
    if (kb_db_cached(d->research,
                     "SELECT COUNT(*) FROM bb_specimens WHERE status = 'available' "
                     "AND pseudonym = COALESCE(?, pseudonym) AND type = COALESCE(?, type)", &st, e))
        return C_ERR;
    kb_bind_text(st, 1, pseudonym);
    kb_bind_text(st, 2, type);
    int r = kb_stmt_step(st, e);
    if (r != 1) return r < 0 ? C_ERR : kb_errf(e, "count returned no row");
    *count = (int)kb_col_int(st, 0);
    kb_stmt_reset(st);
    return C_OK;
}

int kb_specimen_rekey(kb_data *d, const char *from, const char *into, kb_err *e) {
    kb_stmt *st;
    if (kb_db_cached(d->research, "UPDATE bb_specimens SET pseudonym = ? WHERE pseudonym = ?", &st, e)) return C_ERR;
    kb_bind_text(st, 1, into);
    kb_bind_text(st, 2, from);
    int rc = kb_stmt_step(st, e);
    kb_stmt_reset(st);
    return rc < 0 ? kb_err_prefix(e, "moving specimens to the merged donor: ") : C_OK;
}
