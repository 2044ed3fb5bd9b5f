/* specimen.h -- the specimen bank's specimens.
 *
 * A specimen lives in the research store (bb_specimens) and names its donor
 * only by research pseudonym.  The donor's identity is resolved once, at
 * registration, from a source record in the identity store (vault), and the
 * link (person id, source, record, barcode) stays in the identity store
 * (biobank_registrations).
 *
 * Vocabulary: sample types follow MIABIS (serum, plasma, whole blood, buffy
 * coat, frozen tissue, FFPE, ...), written in lower case with underscores.
 * The SPREC code (ISBER Standard PREanalytical Code 3.0) is optional but,
 * when given, validated position by position and checked against the type:
 * a tissue type needs a solid-sample code, a body fluid a fluid code.
 *
 * Lineage: primary (from a collection event), aliquot (same material, part
 * of the parent's quantity), derivative (new material from the parent, e.g.
 * DNA from whole blood), pool (several parents, members in bb_pool_members).
 *
 * Status moves only along kb_specimen_next_status(): available -> reserved
 * -> distributed, available -> consumed/destroyed, reserved -> available
 * (released).  distributed, consumed and destroyed are final and free the
 * specimen's storage position.  Every registration, status change and
 * freeze-thaw is an audit entry (the chain of custody), written in the same
 * transaction as the change. */
#ifndef KB_BIOBANK_SPECIMEN_H
#define KB_BIOBANK_SPECIMEN_H

#include <stdint.h>

#include "ident/pseudonym.h"
#include "store/datadir.h"

/* Who performs a change, for the audit log and the application history. */
typedef struct kb_actor {
    const char *name; /* "cli", or user@org */
    const char *role; /* kb_role_name() */
} kb_actor;

typedef struct kb_specimen {
    int64_t id;
    char barcode[64];
    char pseudonym[KB_PSEUDONYM_LEN];
    char event[64];
    char collected_on[16]; /* YYYY-MM-DD */
    char type[32];
    char site[64];
    char sprec[48];
    double quantity;
    char unit[16];
    char lineage[16];
    int64_t parent_id;
    char parent_barcode[64];
    char status[16];
    int freeze_thaw;
} kb_specimen;

/* MIABIS sample types we accept, NULL-terminated. */
int kb_specimen_type_valid(const char *type);
/* 1 when the type is solid tissue (SPREC solid table), 0 when a fluid or
 * cells, -1 when SPREC allows either (nucleic acids, other). */
int kb_specimen_type_solid(const char *type);

/* Validates a SPREC 3.0 code against the sample type (NULL: any).  The
 * error names the position (1..7), its meaning and the value. */
int kb_sprec_validate(const char *code, const char *type, kb_err *e);

/* Checks the fields of s (type, unit, quantity, date, SPREC, pseudonym);
 * the error names the field and the rule.  *field receives the field. */
int kb_specimen_check(const kb_specimen *s, const char **field, kb_err *e);

/* Resolves a donor: a research pseudonym as given, or the person a source
 * record was linked to.  Fails (naming the record) when unknown. */
int kb_biobank_donor(kb_data *d, const char *pseudonym, const char *source, const char *record,
                     char out[KB_PSEUDONYM_LEN], int64_t *person_id, kb_err *e);

/* Registers a primary specimen.  An empty barcode gets "KB" + id.  When
 * source/record are given, the identity link is stored as well. */
int kb_specimen_register(kb_data *d, const kb_actor *a, kb_specimen *s, const char *source, const char *record,
                         kb_err *e);
/* Aliquot (same type, quantity taken from the parent) or derivative (type
 * given).  out receives the new specimen. */
int kb_specimen_derive(kb_data *d, const kb_actor *a, const char *parent, const char *lineage, const char *type,
                       double quantity, const char *unit, kb_specimen *out, kb_err *e);
/* Pools n available specimens of one donor and type into a new specimen. */
int kb_specimen_pool(kb_data *d, const kb_actor *a, const char *const *members, int n, kb_specimen *out,
                     kb_err *e);

/* 1 found, 0 no such barcode, C_ERR. */
int kb_specimen_get(kb_data *d, const char *barcode, kb_specimen *s, kb_err *e);

/* Calls cb for specimens (status/type NULL: any) in id order, at most
 * limit (<= 0: all); cb returning non-zero stops. */
int kb_specimen_each(kb_data *d, const char *status, const char *type, long limit,
                     int (*cb)(void *arg, const kb_specimen *s), void *arg, kb_err *e);

/* Status transitions.  NULL-terminated list of the statuses reachable from
 * `from` (empty for final ones); NULL when `from` is no status. */
/* Changes status (audited).  Works inside the caller's transaction when the
 * research store already has one. */
int kb_specimen_set_status(kb_data *d, const kb_actor *a, const char *barcode, const char *to, const char *why,
                           kb_err *e);
int kb_specimen_thaw(kb_data *d, const kb_actor *a, const char *barcode, int *count, kb_err *e);

/* For analytics ("specimen availability by type"): number of available
 * specimens, optionally of one donor (pseudonym) and/or one type (NULL for
 * any).  Reads only; no audit entry since no donor data leaves. */
int kb_biobank_available_by_type(kb_data *d, const char *pseudonym, const char *type, int *count, kb_err *e);

/* Moves a merged donor's specimens to the survivor's pseudonym, so that
 * their distribution is decided on the merged person's consent.  Called
 * inside the merge's transaction. */
int kb_specimen_rekey(kb_data *d, const char *from, const char *into, kb_err *e);

#endif
