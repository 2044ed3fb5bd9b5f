/* fhir_screening.h -- the rules of the JP eMunicipalCheckup IG (自治体検診
 * FHIR 記述仕様) for cancer screening document Bundles, checked on top of the
 * document mapping that formats/fhir_checkup.c shares with eCheckupReport.
 *
 * A document is a screening document when its Composition.category is a
 * 報告区分 of the IG (checkup-report-category 51..58).  Its Observations use
 * the IG's JLAC10 code system and have no effectiveDateTime (the Encounter
 * carries the date); the rules below are the ones kenbank can check against
 * its own catalogue (domain/items.h): status, code system, a display that
 * contradicts its code, the Observation.category, the answer's code system
 * and display, and the ObservationGroup structure.
 *
 * Each check fills field (relative to the resource, e.g.
 * "valueCodeableConcept.coding[0].display") and rule, and returns C_ERR. */
#ifndef KB_FHIR_SCREENING_H
#define KB_FHIR_SCREENING_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "domain/exam.h"

#define KB_FHIR_REPORT_CATEGORY "http://jpfhir.jp/fhir/eCheckup/CodeSystem/checkup-report-category"
#define KB_FHIR_IG_JLAC10 "http://jpfhir.jp/fhir/eCheckup/CodeSystem/jlac10"
#define KB_FHIR_GROUP_SYSTEM "http://jpfhir.jp/fhir/eCheckup/CodeSystem/observationGroup-codes"

/* 1 when the Composition says this is a screening document. */
int kb_fhir_screen_is_document(const cJSON *composition);
/* The Composition itself: status final. */
int kb_fhir_screen_composition(const cJSON *composition, char *field, size_t fs, char *rule, size_t rs);
/* The item coding of an Observation of a screening document: the first
 * coding with a code; its system in *system.  NULL when there is none. */
const char *kb_fhir_screen_code(const cJSON *obs, const char **system);
/* One Observation, after it was read into ob. */
int kb_fhir_screen_observation(const cJSON *obs, const kb_obs *ob, char *field, size_t fs, char *rule, size_t rs);
/* One ObservationGroup (an Observation with hasMember, or a cancelled one
 * with a group code). */
int kb_fhir_screen_group(const cJSON *grp, char *field, size_t fs, char *rule, size_t rs);
/* 1 when obs carries a group code of the IG (an ObservationGroup). */
int kb_fhir_screen_is_group(const cJSON *obs);

#endif
