/* fhir_checkup.h -- the national FHIR checkup report (JP eCheckupReport,
 * 健診結果報告書 FHIR 記述仕様) and our older transaction form, to and from
 * one kb_exam.
 *
 * Reading accepts a Bundle of type "document" (Composition, Patient,
 * Organization, Encounter, Coverage, Observations, ObservationGroups with
 * hasMember) or of type "transaction" (one Patient and Observations, as
 * POST /fhir always took).  Both share one Patient and one Observation
 * mapping, so an exam means the same whichever form it came in.  The result
 * is the exam an hc08 file with the same content would give; storing it is
 * the importer's business (ingest/import.h), not ours.
 *
 * Writing produces a document Bundle for one exam, identity included; the
 * caller decides who may have it. */
#ifndef KB_FHIR_CHECKUP_H
#define KB_FHIR_CHECKUP_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "domain/exam.h"
#include "util/kb.h"

/* What a read found besides the exam. */
typedef struct kb_fhir_in {
    int document;        /* 1 document Bundle, 0 transaction */
    int screening;       /* 1 a cancer screening document (JP eMunicipalCheckup; formats/fhir_screening.h) */
    int n_entries;       /* Bundle.entry count */
    int *obs_entry;      /* entry index of each x->obs[k] (components share their Observation's) */
    char expr[160];      /* on failure: the failing element, "Bundle.entry[i].resource.field" */
} kb_fhir_in;

/* Parses JSON text into x (who, exam date, institution, observations,
 * record_id; source is left to the caller).  On failure returns C_ERR, sets
 * in->expr and fills e with "expr: rule". */
int kb_fhir_checkup_read(const char *json, size_t len, kb_exam *x, kb_fhir_in *in, kb_err *e);
void kb_fhir_in_free(kb_fhir_in *in);

/* The transaction-response Bundle once the exam read into x (n_obs
 * observations) is stored as exam_id: one entry per Bundle.entry read, in
 * order.  An entry whose Observation became x->obs[k] (its first, when it had
 * components) is located at Observation/<exam_id>-<k>, "201 Created", or
 * "200 OK" when the exam was a duplicate; any other entry is "200 OK". */
cJSON *kb_fhir_checkup_response(const kb_fhir_in *in, size_t n_obs, long long exam_id, int duplicate);

/* Builds the document Bundle for x.  doc_id is the document's identifier
 * (stable for one exam, e.g. "kenbank-<exam id>"); timestamp an ISO 8601
 * instant.  Fails, naming the field, when the exam lacks something the
 * profile requires that we cannot make up (exam date, institution). */
int kb_fhir_checkup_write(const kb_exam *x, const char *doc_id, const char *timestamp, cJSON **out, kb_err *e);

#endif
