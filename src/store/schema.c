/* schema.c -- the versioned schema of both stores.
 *
 * Append new steps; never edit a step that has shipped.  The SQL is portable
 * between SQLite and PostgreSQL ({id}, {blob}, {now} are expanded by the back
 * end).  Each table names the one module that owns its rows. */
#include "store/datadir.h"

const kb_migration kb_identity_schema[] = {
    {1, "identity core",
     /* owner: ident/vault.c.  A person is a cluster of source records;
      * merged persons point at the survivor so old ids stay resolvable. */
     "CREATE TABLE persons ("
     "  id {id},"
     "  status TEXT NOT NULL DEFAULT 'active',"
     "  merged_into BIGINT REFERENCES persons(id),"
     "  created_at TEXT NOT NULL);"
     /* owner: ident/vault.c.  `sealed` is the encrypted identity; `link_key`
      * a keyed hash of the exact link key (insurer ids + birth date). */
     "CREATE TABLE person_records ("
     "  id {id},"
     "  person_id BIGINT NOT NULL REFERENCES persons(id),"
     "  source TEXT NOT NULL,"
     "  record_id TEXT NOT NULL,"
     "  link_key {blob},"
     "  sealed {blob} NOT NULL,"
     "  created_at TEXT NOT NULL,"
     "  UNIQUE (source, record_id));"
     "CREATE INDEX person_records_link ON person_records(link_key);"
     "CREATE INDEX person_records_person ON person_records(person_id);"
     /* owner: ident/vault.c.  Every link, merge and split, for pseudonyms to follow. */
     "CREATE TABLE link_events ("
     "  id {id},"
     "  at TEXT NOT NULL,"
     "  kind TEXT NOT NULL,"
     "  person_id BIGINT,"
     "  other_person_id BIGINT,"
     "  record_id BIGINT,"
     "  detail TEXT);"
     /* owner: ingest/import.c.  One row per file per source; a completed file
      * with the same content hash is not read again. */
     "CREATE TABLE import_files ("
     "  id {id},"
     "  source TEXT NOT NULL,"
     "  path TEXT NOT NULL,"
     "  sha256 TEXT NOT NULL,"
     "  status TEXT NOT NULL,"
     "  started_at TEXT NOT NULL,"
     "  finished_at TEXT,"
     "  accepted INTEGER NOT NULL DEFAULT 0,"
     "  quarantined INTEGER NOT NULL DEFAULT 0,"
     "  duplicates INTEGER NOT NULL DEFAULT 0,"
     "  UNIQUE (source, sha256));"
     /* owner: ingest/quarantine.c.  The raw record holds identity
      * attributes, so quarantine lives here, sealed, never in research. */
     "CREATE TABLE quarantine ("
     "  id {id},"
     "  source TEXT NOT NULL,"
     "  file TEXT NOT NULL,"
     "  record TEXT NOT NULL,"
     "  field TEXT NOT NULL,"
     "  rule TEXT NOT NULL,"
     "  format TEXT NOT NULL,"
     "  sealed_raw {blob} NOT NULL,"
     "  status TEXT NOT NULL DEFAULT 'open',"
     "  created_at TEXT NOT NULL,"
     "  resolved_at TEXT);"
     "CREATE INDEX quarantine_status ON quarantine(status);"},
};
const size_t kb_identity_schema_len = sizeof kb_identity_schema / sizeof kb_identity_schema[0];

const kb_migration kb_research_schema[] = {
    {1, "research core",
     /* owner: ingest/import.c (writes), analytics (reads).  Only the keyed
      * pseudonym identifies a subject here. */
     "CREATE TABLE subjects ("
     "  id {id},"
     "  pseudonym TEXT NOT NULL UNIQUE,"
     "  sex INTEGER NOT NULL DEFAULT 0,"
     "  status TEXT NOT NULL DEFAULT 'active',"
     "  merged_into BIGINT REFERENCES subjects(id));"
     /* owner: ingest/import.c.  record_key is a keyed hash of the source's own
      * record id, because a source id leads straight back to the source's
      * patient file.  A corrected resubmission adds a version and clears
      * `current` on the old one, keeping its history. */
     "CREATE TABLE exams ("
     "  id {id},"
     "  subject_id BIGINT NOT NULL REFERENCES subjects(id),"
     "  source TEXT NOT NULL,"
     "  record_key TEXT NOT NULL,"
     "  version INTEGER NOT NULL,"
     "  current INTEGER NOT NULL DEFAULT 1,"
     "  content_hash TEXT NOT NULL,"
     "  exam_date TEXT NOT NULL,"
     "  fiscal_year INTEGER NOT NULL,"
     "  age INTEGER,"
     "  age_fy INTEGER,"
     "  insurer_token TEXT,"
     "  performer_org TEXT,"
     "  metabo INTEGER,"
     "  guidance INTEGER,"
     "  sender_metabo INTEGER,"
     "  sender_guidance INTEGER,"
     "  imported_at TEXT NOT NULL,"
     "  UNIQUE (source, record_key, version));"
     "CREATE INDEX exams_subject ON exams(subject_id);"
     "CREATE INDEX exams_fy ON exams(fiscal_year, current);"
     /* owner: ingest/import.c. */
     "CREATE TABLE observations ("
     "  exam_id BIGINT NOT NULL REFERENCES exams(id),"
     "  seq INTEGER NOT NULL,"
     "  code TEXT NOT NULL,"
     "  type INTEGER NOT NULL,"
     "  num DOUBLE PRECISION,"
     "  num_text TEXT,"
     "  unit TEXT,"
     "  coded TEXT,"
     "  coded_system TEXT,"
     "  text TEXT,"
     "  null_flavor TEXT,"
     "  not_done INTEGER NOT NULL DEFAULT 0,"
     "  interp TEXT,"
     "  grp INTEGER NOT NULL DEFAULT 0,"
     "  PRIMARY KEY (exam_id, seq));"
     "CREATE INDEX observations_code ON observations(code, num);"},
};
const size_t kb_research_schema_len = sizeof kb_research_schema / sizeof kb_research_schema[0];
