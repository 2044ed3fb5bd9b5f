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
     "CREATE INDEX quarantine_status ON quarantine(status);", NULL},
    {2, "accounts and sessions",
     /* owner: auth/auth.c.  An individual's account is bound to a person
      * (person_id) through a one-time enrolment code; other roles carry the
      * organisation they act for (insurer number, institution number,
      * provider id).  Passwords are Argon2id strings (libsodium). */
     "CREATE TABLE accounts ("
     "  id {id},"
     "  username TEXT NOT NULL UNIQUE,"
     "  role TEXT NOT NULL,"
     "  pw_hash TEXT NOT NULL,"
     "  person_id BIGINT REFERENCES persons(id),"
     "  org TEXT NOT NULL DEFAULT '',"
     "  status TEXT NOT NULL DEFAULT 'active',"
     "  failed_logins INTEGER NOT NULL DEFAULT 0,"
     "  locked_until TEXT,"
     "  created_at TEXT NOT NULL);"
     /* owner: auth/auth.c.  Only a hash of the session token is stored, so a
      * copy of the database cannot be replayed as a login. */
     "CREATE TABLE sessions ("
     "  token_hash TEXT PRIMARY KEY,"
     "  account_id BIGINT NOT NULL REFERENCES accounts(id),"
     "  csrf TEXT NOT NULL,"
     "  created_at TEXT NOT NULL,"
     "  expires_at TEXT NOT NULL);"
     /* owner: auth/auth.c.  Bearer tokens for machines: hashed, scoped, expiring. */
     "CREATE TABLE api_tokens ("
     "  id {id},"
     "  token_hash TEXT NOT NULL UNIQUE,"
     "  account_id BIGINT NOT NULL REFERENCES accounts(id),"
     "  scope TEXT NOT NULL,"
     "  label TEXT NOT NULL DEFAULT '',"
     "  created_at TEXT NOT NULL,"
     "  expires_at TEXT NOT NULL,"
     "  revoked INTEGER NOT NULL DEFAULT 0);"
     /* owner: auth/auth.c.  One-time codes an insurer or institution hands to
      * a person so that they can create their own account. */
     "CREATE TABLE enrolment_codes ("
     "  code_hash TEXT PRIMARY KEY,"
     "  person_id BIGINT NOT NULL REFERENCES persons(id),"
     "  issued_by TEXT NOT NULL,"
     "  created_at TEXT NOT NULL,"
     "  expires_at TEXT NOT NULL,"
     "  used_at TEXT,"
     "  account_id BIGINT);"
     /* owner: audit/audit.c.  The last audit entry's sequence number and hash,
      * kept in the other store so that truncating the log's tail is caught. */
     "CREATE TABLE audit_anchor ("
     "  id INTEGER PRIMARY KEY,"
     "  seq BIGINT NOT NULL,"
     "  hash TEXT NOT NULL);"
     "INSERT INTO audit_anchor (id, seq, hash) VALUES (1, 0, '');", NULL},
    /* Steps 3-5 are reserved while three modules are written in parallel;
     * each owner replaces its placeholder before the step first ships. */
    {3, "biobank",
     /* owner: biobank/specimen.c.  Which source record a donor's specimens
      * were registered against: the research store knows the donor only by
      * pseudonym, so this is the one place the link to a person is kept. */
     "CREATE TABLE biobank_registrations ("
     "  id {id},"
     "  person_id BIGINT NOT NULL REFERENCES persons(id),"
     "  source TEXT NOT NULL,"
     "  record_id TEXT NOT NULL,"
     "  barcode TEXT NOT NULL UNIQUE,"
     "  created_at TEXT NOT NULL);"
     "CREATE INDEX biobank_registrations_person ON biobank_registrations(person_id);", NULL},
    {4, "analytics",
     /* owner: analytics/disclosure.c.  The per-account budget of
      * disclosure-controlled cohort counts: one row per distinct normalised
      * query (keyed hash) per account per UTC day.  It sits beside the
      * accounts it limits. */
     "CREATE TABLE cohort_budget ("
     "  username TEXT NOT NULL,"
     "  day TEXT NOT NULL,"
     "  qhash TEXT NOT NULL,"
     "  at TEXT NOT NULL,"
     "  PRIMARY KEY (username, day, qhash));", NULL},
    {5, "portal",
     /* owner: server/routes_portal.c.  One row per file a checkup institution
      * uploads through the web; the records themselves go through the
      * importer (import_files, quarantine) like any other file. */
     "CREATE TABLE portal_uploads ("
     "  id {id},"
     "  source TEXT NOT NULL,"
     "  filename TEXT NOT NULL,"
     "  uploaded_by TEXT NOT NULL,"
     "  bytes BIGINT NOT NULL,"
     "  status TEXT NOT NULL,"
     "  accepted INTEGER NOT NULL DEFAULT 0,"
     "  quarantined INTEGER NOT NULL DEFAULT 0,"
     "  duplicates INTEGER NOT NULL DEFAULT 0,"
     "  message TEXT NOT NULL DEFAULT '',"
     "  started_at TEXT NOT NULL,"
     "  finished_at TEXT);"
     "CREATE INDEX portal_uploads_source ON portal_uploads(source, id);", NULL},
    {6, "linkage",
     /* owner: ident/resolver.c.  EM-estimated Fellegi-Sunter parameters (one
      * row), and the clerical review queue of uncertain pairs. */
     "CREATE TABLE link_params ("
     "  id INTEGER PRIMARY KEY,"
     "  params TEXT NOT NULL,"
     "  records BIGINT NOT NULL,"
     "  trained_at TEXT NOT NULL);"
     "CREATE TABLE review_queue ("
     "  id {id},"
     "  record_a BIGINT NOT NULL REFERENCES person_records(id),"
     "  record_b BIGINT NOT NULL REFERENCES person_records(id),"
     "  score DOUBLE PRECISION NOT NULL,"
     "  status TEXT NOT NULL DEFAULT 'pending',"
     "  decided_by TEXT,"
     "  decided_at TEXT,"
     "  created_at TEXT NOT NULL);"
     "CREATE INDEX review_queue_status ON review_queue(status);", NULL},
    {7, "merged persons indexed",
     /* owner: ident/vault.c.  A merge re-points persons absorbed earlier
      * (merged_into = the absorbed one) at the survivor; without an index
      * that is a scan of every person per merge. */
     "CREATE INDEX persons_merged ON persons(merged_into) WHERE merged_into IS NOT NULL;",
     NULL},
    {8, "archive documents that are not exams",
     /* owner: ingest/archive_docs.c.  Settlements (cc08, gc08) and
      * 特定保健指導 documents (hg08) arrive in the same archives as exams.
      * They name the person, so they are sealed here like quarantine.  A
      * checkup settlement is tied to the exam it pays for by that exam's
      * record token (exams.record_key in the research store).  An archive's
      * settlements are kept as one deflated, sealed bundle with a small row
      * per settlement pointing into it: one per exam would double the
      * identity store's writes during an import. */
     "CREATE TABLE archive_bundles ("
     "  id {id},"
     "  source TEXT NOT NULL,"
     "  archive TEXT NOT NULL,"
     "  documents INTEGER NOT NULL,"
     "  bytes BIGINT NOT NULL,"
     "  sealed {blob} NOT NULL,"
     "  created_at TEXT NOT NULL);"
     "CREATE TABLE archive_documents ("
     "  id {id},"
     "  source TEXT NOT NULL,"
     "  file TEXT NOT NULL,"
     "  kind TEXT NOT NULL,"
     "  status TEXT NOT NULL,"
     "  exam_record_key TEXT,"
     "  claim_amount BIGINT,"
     "  bundle_id BIGINT REFERENCES archive_bundles(id),"
     "  bundle_offset BIGINT,"
     "  bundle_length BIGINT,"
     "  sealed_raw {blob},"
     "  created_at TEXT NOT NULL);"
     "CREATE INDEX archive_documents_exam ON archive_documents(exam_record_key) WHERE exam_record_key IS NOT NULL;",
     NULL},
    {9, "account recovery; login throttle per name and address",
     /* owner: auth/recovery.c.  A lost individual account is recovered, never
      * re-enrolled: staff request it, a second staff member or the member
      * (still logged in) makes it effective, and its one-time code replaces
      * the existing account's password.  source/record_id name the record
      * the requester identified the person by (the approver's scope). */
     "CREATE TABLE account_recoveries ("
     "  id {id},"
     "  account_id BIGINT NOT NULL REFERENCES accounts(id),"
     "  source TEXT NOT NULL,"
     "  record_id TEXT NOT NULL,"
     "  requested_by TEXT NOT NULL,"
     "  reason TEXT NOT NULL DEFAULT '',"
     "  status TEXT NOT NULL DEFAULT 'pending',"
     "  approved_by TEXT,"
     "  code_hash TEXT UNIQUE,"
     "  created_at TEXT NOT NULL,"
     "  decided_at TEXT,"
     "  expires_at TEXT,"
     "  used_at TEXT);"
     "CREATE INDEX account_recoveries_account ON account_recoveries(account_id, status);"
     /* owner: auth/auth.c.  Failed logins per (name as typed, client
      * address): a guesser is slowed down from where they guess, and the
      * member logging in from elsewhere is not locked out.  name_hash is a
      * hash of the typed name, so unknown names are kept exactly like known
      * ones (and a password typed into the name field is not stored). */
     "CREATE TABLE login_throttle ("
     "  name_hash TEXT NOT NULL,"
     "  addr TEXT NOT NULL,"
     "  failures INTEGER NOT NULL,"
     "  blocked_until TEXT,"
     "  last_at TEXT NOT NULL,"
     "  PRIMARY KEY (name_hash, addr));",
     NULL},
    {10, "insurer roster (eligibility list)",
     /* owner: ingest/roster.c.  One row per version of an insurer's member
      * record.  member_hash is a keyed hash (index key) of insurer number,
      * 記号, 番号 and 枝番, so a re-import finds the member without
      * unsealing anything; content_hash (same key) tells an unchanged row
      * from a changed one.  The identity itself is the sealed person_records
      * row (source, record_id) that the resolver stored for this version. */
     "CREATE TABLE roster_rows ("
     "  id {id},"
     "  source TEXT NOT NULL,"
     "  member_hash TEXT NOT NULL,"
     "  version INTEGER NOT NULL,"
     "  current INTEGER NOT NULL DEFAULT 1,"
     "  content_hash TEXT NOT NULL,"
     "  record_id TEXT NOT NULL,"
     "  person_id BIGINT NOT NULL REFERENCES persons(id),"
     "  created_at TEXT NOT NULL,"
     "  UNIQUE (member_hash, version));"
     "CREATE INDEX roster_rows_current ON roster_rows(member_hash, current);",
     NULL},
    {11, "organisation names",
     /* owner: auth/auth.c.  The name an account's organisation code stands
      * for (保険者名, 医療機関名), so screens say who rather than a code. */
     "CREATE TABLE organisations ("
     "  code TEXT PRIMARY KEY,"
     "  name TEXT NOT NULL,"
     "  updated_at TEXT NOT NULL);",
     NULL},
};
const size_t kb_identity_schema_len = sizeof kb_identity_schema / sizeof kb_identity_schema[0];

/* Research step 8, on both back ends: the duplicate check's own table,
 * filled from the exams already stored (after they have their pseudonym). */
#define EXAM_KEYS                                                                                    \
    "CREATE TABLE exam_keys ("                                                                       \
    "  record_key TEXT NOT NULL,"                                                                    \
    "  source TEXT NOT NULL,"                                                                        \
    "  version INTEGER NOT NULL,"                                                                    \
    "  pseudonym TEXT NOT NULL,"                                                                     \
    "  exam_id BIGINT NOT NULL,"                                                                     \
    "  content_hash TEXT NOT NULL,"                                                                  \
    "  PRIMARY KEY (record_key, source, version));"                                                  \
    "INSERT INTO exam_keys SELECT record_key, source, version, pseudonym, id, content_hash FROM exams;"

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
     /* No index on (code, value): every index costs ~20 row writes per
      * imported exam, and cohort queries scan by code anyway. */
     /* owner: ingest/import.c.  Items at 保健指導判定値 (level 1) or
      * 受診勧奨判定値 (level 2), from domain/judge.c; normal items are not
      * stored, so a missing row means normal or not measured. */
     "CREATE TABLE exam_flags ("
     "  exam_id BIGINT NOT NULL REFERENCES exams(id),"
     "  item TEXT NOT NULL,"
     "  level INTEGER NOT NULL,"
     "  PRIMARY KEY (exam_id, item));", NULL},
    {2, "audit log and consent",
     /* owner: audit/audit.c.  Append-only, hash-chained: hash = keyed
      * BLAKE2b(prev || canonical fields).  audit_head is one row that every
      * append updates first, which serialises appenders across connections
      * and processes. */
     "CREATE TABLE audit_log ("
     "  seq BIGINT PRIMARY KEY,"
     "  at TEXT NOT NULL,"
     "  actor TEXT NOT NULL,"
     "  role TEXT NOT NULL,"
     "  action TEXT NOT NULL,"
     "  pseudonym TEXT NOT NULL DEFAULT '',"
     "  purpose TEXT NOT NULL DEFAULT '',"
     "  result TEXT NOT NULL,"
     "  detail TEXT NOT NULL DEFAULT '',"
     "  prev TEXT NOT NULL,"
     "  hash TEXT NOT NULL);"
     "CREATE INDEX audit_log_pseudonym ON audit_log(pseudonym, seq);"
     "CREATE TABLE audit_head ("
     "  id INTEGER PRIMARY KEY,"
     "  seq BIGINT NOT NULL,"
     "  hash TEXT NOT NULL);"
     "INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '');"
     /* owner: consent/consent.c.  The texts a person agrees to, versioned. */
     "CREATE TABLE consent_texts ("
     "  purpose TEXT NOT NULL,"
     "  version INTEGER NOT NULL,"
     "  text_ja TEXT NOT NULL,"
     "  text_en TEXT NOT NULL,"
     "  published_at TEXT NOT NULL,"
     "  PRIMARY KEY (purpose, version));"
     /* owner: consent/consent.c.  Append-only: every grant and withdrawal is a
      * row; the newest row per (pseudonym, purpose, provider) is the state. */
     "CREATE TABLE consents ("
     "  id {id},"
     "  pseudonym TEXT NOT NULL,"
     "  purpose TEXT NOT NULL,"
     "  provider TEXT NOT NULL DEFAULT '',"
     "  text_version INTEGER NOT NULL,"
     "  state TEXT NOT NULL,"
     "  valid_from TEXT NOT NULL,"
     "  valid_to TEXT,"
     "  channel TEXT NOT NULL,"
     "  recorded_at TEXT NOT NULL,"
     "  recorded_by TEXT NOT NULL);"
     "CREATE INDEX consents_subject ON consents(pseudonym, purpose, provider, id);"
     "INSERT INTO consent_texts VALUES ('academic_research', 1,"
     " '健診結果を仮名化したうえで、大学・公的研究機関の学術研究に利用することに同意します。',"
     " 'I agree that my pseudonymised checkup results may be used for academic research by universities and public research bodies.', {now});"
     "INSERT INTO consent_texts VALUES ('commercial_research', 1,"
     " '健診結果を仮名化したうえで、企業の研究開発に利用することに同意します。',"
     " 'I agree that my pseudonymised checkup results may be used for research and development by companies.', {now});"
     "INSERT INTO consent_texts VALUES ('provider_sharing', 1,"
     " '指定した医療機関・サービス事業者に健診結果を提供することに同意します。',"
     " 'I agree that my checkup results may be shared with the provider I name.', {now});"
     "INSERT INTO consent_texts VALUES ('marketing_aggregates', 1,"
     " '個人を特定できない集計値の作成に健診結果を利用することに同意します。',"
     " 'I agree that my checkup results may be counted in aggregate statistics that identify no one.', {now});"
     "INSERT INTO consent_texts VALUES ('recontact', 1,"
     " '研究への参加案内のために再度連絡を受けることに同意します。',"
     " 'I agree to be contacted again with invitations to take part in research.', {now});", NULL},
    /* Reserved as in the identity store: 3 biobank, 4 analytics, 5 portal. */
    {3, "biobank",
     /* owner: biobank/specimen.c.  One row per specimen, donors by pseudonym
      * only.  parent_id links aliquots and derivatives; pools list their
      * members in bb_pool_members. */
     "CREATE TABLE bb_specimens ("
     "  id {id},"
     "  barcode TEXT NOT NULL UNIQUE,"
     "  pseudonym TEXT NOT NULL,"
     "  event TEXT NOT NULL DEFAULT '',"
     "  collected_on TEXT NOT NULL,"
     "  type TEXT NOT NULL,"
     "  site TEXT NOT NULL DEFAULT '',"
     "  sprec TEXT NOT NULL DEFAULT '',"
     "  quantity DOUBLE PRECISION NOT NULL,"
     "  unit TEXT NOT NULL,"
     "  lineage TEXT NOT NULL DEFAULT 'primary',"
     "  parent_id BIGINT REFERENCES bb_specimens(id),"
     "  status TEXT NOT NULL DEFAULT 'available',"
     "  freeze_thaw INTEGER NOT NULL DEFAULT 0,"
     "  created_at TEXT NOT NULL,"
     "  updated_at TEXT NOT NULL);"
     "CREATE INDEX bb_specimens_pick ON bb_specimens(status, type);"
     "CREATE INDEX bb_specimens_donor ON bb_specimens(pseudonym);"
     "CREATE TABLE bb_pool_members ("
     "  pool_id BIGINT NOT NULL REFERENCES bb_specimens(id),"
     "  member_id BIGINT NOT NULL REFERENCES bb_specimens(id),"
     "  PRIMARY KEY (pool_id, member_id));"
     /* owner: biobank/storage.c.  A row in bb_positions exists only while
      * the position is occupied; the primary key is the invariant "no two
      * specimens in one position" and UNIQUE(specimen_id) is "no specimen in
      * two places", both enforced by the store itself. */
     "CREATE TABLE bb_freezers ("
     "  id {id},"
     "  name TEXT NOT NULL UNIQUE,"
     "  temperature_c DOUBLE PRECISION NOT NULL);"
     "CREATE TABLE bb_racks ("
     "  id {id},"
     "  freezer_id BIGINT NOT NULL REFERENCES bb_freezers(id),"
     "  name TEXT NOT NULL,"
     "  UNIQUE (freezer_id, name));"
     "CREATE TABLE bb_boxes ("
     "  id {id},"
     "  rack_id BIGINT NOT NULL REFERENCES bb_racks(id),"
     "  name TEXT NOT NULL UNIQUE,"
     "  n_rows INTEGER NOT NULL CHECK (n_rows BETWEEN 1 AND 26),"
     "  n_cols INTEGER NOT NULL CHECK (n_cols BETWEEN 1 AND 99));"
     "CREATE TABLE bb_positions ("
     "  box_id BIGINT NOT NULL REFERENCES bb_boxes(id),"
     "  row_no INTEGER NOT NULL,"
     "  col_no INTEGER NOT NULL,"
     "  specimen_id BIGINT NOT NULL UNIQUE REFERENCES bb_specimens(id),"
     "  placed_at TEXT NOT NULL,"
     "  PRIMARY KEY (box_id, row_no, col_no));"
     /* owner: biobank/application.c.  Research applications, their
      * requested specimens, every transition (the history the turnaround
      * statistics are computed from) and reviewers' decisions. */
     "CREATE TABLE bb_applications ("
     "  id {id},"
     "  title TEXT NOT NULL,"
     "  pi TEXT NOT NULL,"
     "  organisation TEXT NOT NULL,"
     "  protocol TEXT NOT NULL DEFAULT '',"
     "  data_items TEXT NOT NULL DEFAULT '',"
     "  purpose TEXT NOT NULL,"
     "  owner TEXT NOT NULL,"
     "  state TEXT NOT NULL,"
     "  created_at TEXT NOT NULL,"
     "  updated_at TEXT NOT NULL);"
     "CREATE TABLE bb_app_requests ("
     "  app_id BIGINT NOT NULL REFERENCES bb_applications(id),"
     "  type TEXT NOT NULL,"
     "  count INTEGER NOT NULL,"
     "  PRIMARY KEY (app_id, type));"
     "CREATE TABLE bb_app_events ("
     "  id {id},"
     "  app_id BIGINT NOT NULL REFERENCES bb_applications(id),"
     "  at TEXT NOT NULL,"
     "  actor TEXT NOT NULL,"
     "  role TEXT NOT NULL,"
     "  from_state TEXT NOT NULL,"
     "  to_state TEXT NOT NULL,"
     "  comment TEXT NOT NULL DEFAULT '');"
     "CREATE INDEX bb_app_events_app ON bb_app_events(app_id, id);"
     "CREATE TABLE bb_reviews ("
     "  id {id},"
     "  app_id BIGINT NOT NULL REFERENCES bb_applications(id),"
     "  stage TEXT NOT NULL,"
     "  reviewer TEXT NOT NULL,"
     "  decision TEXT NOT NULL,"
     "  comment TEXT NOT NULL DEFAULT '',"
     "  at TEXT NOT NULL);"
     /* owner: biobank/distribution.c.  One row per specimen set aside for
      * an application; shipped_at set when it leaves, released_at when the
      * reservation is given back (e.g. consent withdrawn before shipping). */
     "CREATE TABLE bb_distributions ("
     "  id {id},"
     "  app_id BIGINT NOT NULL REFERENCES bb_applications(id),"
     "  specimen_id BIGINT NOT NULL REFERENCES bb_specimens(id),"
     "  reserved_at TEXT NOT NULL,"
     "  shipped_at TEXT,"
     "  fiscal_year INTEGER,"
     "  released_at TEXT,"
     "  release_reason TEXT NOT NULL DEFAULT '',"
     "  UNIQUE (app_id, specimen_id));"
     "CREATE INDEX bb_distributions_fy ON bb_distributions(fiscal_year);"
     /* owner: biobank/distribution.c.  Results a researcher returns,
      * attached to the specimen they were measured on. */
     "CREATE TABLE bb_results ("
     "  id {id},"
     "  app_id BIGINT NOT NULL REFERENCES bb_applications(id),"
     "  specimen_id BIGINT NOT NULL REFERENCES bb_specimens(id),"
     "  code TEXT NOT NULL,"
     "  num DOUBLE PRECISION,"
     "  text TEXT NOT NULL DEFAULT '',"
     "  unit TEXT NOT NULL DEFAULT '',"
     "  recorded_at TEXT NOT NULL,"
     "  recorded_by TEXT NOT NULL);"
     "CREATE INDEX bb_results_specimen ON bb_results(specimen_id);", NULL},
    {4, "analytics",
     /* owner: analytics/export.c.  One row per research export: what was
      * asked, under which project and purpose, and the guarantees met. */
     "CREATE TABLE export_log ("
     "  id {id},"
     "  at TEXT NOT NULL,"
     "  actor TEXT NOT NULL,"
     "  project TEXT NOT NULL,"
     "  purpose TEXT NOT NULL,"
     "  query TEXT NOT NULL,"
     "  items TEXT NOT NULL,"
     "  k INTEGER NOT NULL,"
     "  l INTEGER NOT NULL DEFAULT 0,"
     "  rows_out INTEGER NOT NULL,"
     "  suppressed INTEGER NOT NULL,"
     "  loss DOUBLE PRECISION NOT NULL,"
     "  out_dir TEXT NOT NULL);", NULL},
    {5, "portal: sensors and health points",
     /* owner: portal/sensors.c.  Readings a person uploads (web form or their
      * device through the API): steps per day, blood pressure (value =
      * systolic, value2 = diastolic), weight. */
     "CREATE TABLE sensor_readings ("
     "  id {id},"
     "  pseudonym TEXT NOT NULL,"
     "  kind TEXT NOT NULL,"
     "  measured_on TEXT NOT NULL,"
     "  value DOUBLE PRECISION NOT NULL,"
     "  value2 DOUBLE PRECISION,"
     "  channel TEXT NOT NULL,"
     "  recorded_at TEXT NOT NULL);"
     "CREATE INDEX sensor_readings_subject ON sensor_readings(pseudonym, kind, measured_on);"
     /* owner: portal/points.c.  The insurer's point programme as data: one
      * row per rule (kind checkup | steps | improve), edited on the insurer
      * screen.  item is a thresholds key (hba1c, sbp, bmi, ...) for improve. */
     "CREATE TABLE point_rules ("
     "  rule TEXT PRIMARY KEY,"
     "  kind TEXT NOT NULL,"
     "  item TEXT NOT NULL DEFAULT '',"
     "  threshold DOUBLE PRECISION NOT NULL DEFAULT 0,"
     "  points INTEGER NOT NULL,"
     "  cap INTEGER NOT NULL DEFAULT 0,"
     "  enabled INTEGER NOT NULL DEFAULT 1,"
     "  updated_at TEXT NOT NULL,"
     "  updated_by TEXT NOT NULL);"
     "INSERT INTO point_rules VALUES ('checkup', 'checkup', '', 0, 500, 0, 1, {now}, 'schema');"
     "INSERT INTO point_rules VALUES ('steps', 'steps', '', 8000, 10, 300, 1, {now}, 'schema');"
     "INSERT INTO point_rules VALUES ('improve_hba1c', 'improve', 'hba1c', 0.2, 200, 0, 1, {now}, 'schema');"
     "INSERT INTO point_rules VALUES ('improve_sbp', 'improve', 'sbp', 5, 200, 0, 1, {now}, 'schema');"
     "INSERT INTO point_rules VALUES ('improve_bmi', 'improve', 'bmi', 0.5, 200, 0, 1, {now}, 'schema');"
     /* owner: portal/points.c.  Append-only; (pseudonym, rule, ref) is unique
      * so that evaluating the rules again never pays twice. */
     "CREATE TABLE point_ledger ("
     "  id {id},"
     "  pseudonym TEXT NOT NULL,"
     "  rule TEXT NOT NULL,"
     "  ref TEXT NOT NULL,"
     "  points INTEGER NOT NULL,"
     "  note TEXT NOT NULL DEFAULT '',"
     "  at TEXT NOT NULL,"
     "  UNIQUE (pseudonym, rule, ref));", NULL},
    {6, "observations carry their fiscal year (partitioned on PostgreSQL)",
     /* owner: ingest/import.c.  The exam's fiscal year is copied onto each
      * observation so that PostgreSQL can partition the biggest table by
      * year (one partition per 年度: old years can be detached, archived or
      * put on other tablespaces, and a query for one year reads one
      * partition).  SQLite has no partitions; it gets the same column so
      * that the code and the queries are one. */
     "ALTER TABLE observations ADD COLUMN fiscal_year INTEGER NOT NULL DEFAULT 0;"
     "UPDATE observations SET fiscal_year = (SELECT x.fiscal_year FROM exams x WHERE x.id = observations.exam_id);",
     /* PostgreSQL: the table is rebuilt as a range-partitioned one.  A
      * partition's primary key must contain the partition key, hence
      * (exam_id, seq, fiscal_year).  Partitions exist for FY2008 (the first
      * year of 特定健診) to FY2040; anything else lands in the DEFAULT
      * partition, which `kenbank check` reports as a warning to add years. */
     "ALTER TABLE observations RENAME TO observations_unpartitioned;"
     "ALTER TABLE observations_unpartitioned RENAME CONSTRAINT observations_pkey TO observations_unpartitioned_pkey;"
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
     "  fiscal_year INTEGER NOT NULL,"
     "  PRIMARY KEY (exam_id, seq, fiscal_year)) PARTITION BY RANGE (fiscal_year);"
     "CREATE TABLE observations_fy2008 PARTITION OF observations FOR VALUES FROM (2008) TO (2009);"
     "CREATE TABLE observations_fy2009 PARTITION OF observations FOR VALUES FROM (2009) TO (2010);"
     "CREATE TABLE observations_fy2010 PARTITION OF observations FOR VALUES FROM (2010) TO (2011);"
     "CREATE TABLE observations_fy2011 PARTITION OF observations FOR VALUES FROM (2011) TO (2012);"
     "CREATE TABLE observations_fy2012 PARTITION OF observations FOR VALUES FROM (2012) TO (2013);"
     "CREATE TABLE observations_fy2013 PARTITION OF observations FOR VALUES FROM (2013) TO (2014);"
     "CREATE TABLE observations_fy2014 PARTITION OF observations FOR VALUES FROM (2014) TO (2015);"
     "CREATE TABLE observations_fy2015 PARTITION OF observations FOR VALUES FROM (2015) TO (2016);"
     "CREATE TABLE observations_fy2016 PARTITION OF observations FOR VALUES FROM (2016) TO (2017);"
     "CREATE TABLE observations_fy2017 PARTITION OF observations FOR VALUES FROM (2017) TO (2018);"
     "CREATE TABLE observations_fy2018 PARTITION OF observations FOR VALUES FROM (2018) TO (2019);"
     "CREATE TABLE observations_fy2019 PARTITION OF observations FOR VALUES FROM (2019) TO (2020);"
     "CREATE TABLE observations_fy2020 PARTITION OF observations FOR VALUES FROM (2020) TO (2021);"
     "CREATE TABLE observations_fy2021 PARTITION OF observations FOR VALUES FROM (2021) TO (2022);"
     "CREATE TABLE observations_fy2022 PARTITION OF observations FOR VALUES FROM (2022) TO (2023);"
     "CREATE TABLE observations_fy2023 PARTITION OF observations FOR VALUES FROM (2023) TO (2024);"
     "CREATE TABLE observations_fy2024 PARTITION OF observations FOR VALUES FROM (2024) TO (2025);"
     "CREATE TABLE observations_fy2025 PARTITION OF observations FOR VALUES FROM (2025) TO (2026);"
     "CREATE TABLE observations_fy2026 PARTITION OF observations FOR VALUES FROM (2026) TO (2027);"
     "CREATE TABLE observations_fy2027 PARTITION OF observations FOR VALUES FROM (2027) TO (2028);"
     "CREATE TABLE observations_fy2028 PARTITION OF observations FOR VALUES FROM (2028) TO (2029);"
     "CREATE TABLE observations_fy2029 PARTITION OF observations FOR VALUES FROM (2029) TO (2030);"
     "CREATE TABLE observations_fy2030 PARTITION OF observations FOR VALUES FROM (2030) TO (2031);"
     "CREATE TABLE observations_fy2031 PARTITION OF observations FOR VALUES FROM (2031) TO (2032);"
     "CREATE TABLE observations_fy2032 PARTITION OF observations FOR VALUES FROM (2032) TO (2033);"
     "CREATE TABLE observations_fy2033 PARTITION OF observations FOR VALUES FROM (2033) TO (2034);"
     "CREATE TABLE observations_fy2034 PARTITION OF observations FOR VALUES FROM (2034) TO (2035);"
     "CREATE TABLE observations_fy2035 PARTITION OF observations FOR VALUES FROM (2035) TO (2036);"
     "CREATE TABLE observations_fy2036 PARTITION OF observations FOR VALUES FROM (2036) TO (2037);"
     "CREATE TABLE observations_fy2037 PARTITION OF observations FOR VALUES FROM (2037) TO (2038);"
     "CREATE TABLE observations_fy2038 PARTITION OF observations FOR VALUES FROM (2038) TO (2039);"
     "CREATE TABLE observations_fy2039 PARTITION OF observations FOR VALUES FROM (2039) TO (2040);"
     "CREATE TABLE observations_fy2040 PARTITION OF observations FOR VALUES FROM (2040) TO (2041);"
     "CREATE TABLE observations_fy_other PARTITION OF observations DEFAULT;"
     "INSERT INTO observations SELECT o.exam_id, o.seq, o.code, o.type, o.num, o.num_text, o.unit, o.coded,"
     "  o.coded_system, o.text, o.null_flavor, o.not_done, o.interp, o.grp, x.fiscal_year"
     "  FROM observations_unpartitioned o JOIN exams x ON x.id = o.exam_id;"
     "DROP TABLE observations_unpartitioned;"},
    {7, "exams record their observation count; merged subjects indexed",
     /* owner: ingest/import.c.  The member's exam list shows how many items
      * each exam has.  Counting them per request read every observation row
      * once the count had to name the fiscal year (the partition key), so
      * the importer stores the count with the exam, which never changes. */
     "ALTER TABLE exams ADD COLUMN n_obs INTEGER NOT NULL DEFAULT 0;"
     "UPDATE exams SET n_obs = (SELECT COUNT(*) FROM observations o WHERE o.exam_id = exams.id "
     "AND o.fiscal_year = exams.fiscal_year);"
     /* owner: ident/resolver.c (merges).  A member's access log also lists
      * reads under the pseudonyms merged into theirs, found by this. */
     "CREATE INDEX subjects_merged ON subjects(merged_into) WHERE merged_into IS NOT NULL;",
     NULL},
    {8, "per-person rows carry the person's pseudonym (ready for distribution by it)",
     /* owner: ingest/import.c.  Every per-person table names the pseudonym
      * of the subject its rows arrived under, so a sharded deployment
      * (Citus; docs/SCALING.md) can place all of a person's rows on one node
      * by that column.  It is written once and never updated: a merge moves
      * the absorbed subject into the survivor through exams.subject_id and
      * subjects.merged_into, which are ordinary columns.
      *
      * exam_keys takes over the duplicate check from exams' UNIQUE (source,
      * record_key, version), which cannot hold the person (a corrected
      * version may link to someone else) and so cannot stay on a table
      * distributed by person.  SQLite keeps the old constraint as well: it
      * cannot drop it without rebuilding the table, and it still holds. */
     "ALTER TABLE exams ADD COLUMN pseudonym TEXT NOT NULL DEFAULT '';"
     "UPDATE exams SET pseudonym = COALESCE((SELECT s.pseudonym FROM subjects s WHERE s.id = exams.subject_id), '');"
     "ALTER TABLE observations ADD COLUMN pseudonym TEXT NOT NULL DEFAULT '';"
     "UPDATE observations SET pseudonym = COALESCE((SELECT x.pseudonym FROM exams x WHERE x.id = observations.exam_id), '');"
     "ALTER TABLE exam_flags ADD COLUMN pseudonym TEXT NOT NULL DEFAULT '';"
     "UPDATE exam_flags SET pseudonym = COALESCE((SELECT x.pseudonym FROM exams x WHERE x.id = exam_flags.exam_id), '');"
     EXAM_KEYS,
     /* PostgreSQL: the constraints are reshaped to the rules a distributed
      * table must keep -- the distribution column in every primary key and
      * unique constraint, and in every foreign key between per-person
      * tables.  Keys put id first so lookups by id keep their index.  A
      * foreign key that crosses persons (subjects.merged_into) cannot be
      * kept; `kenbank check` verifies it instead.  Finally a guard trigger
      * refuses any UPDATE of a distribution column, which Citus forbids, so
      * the whole PostgreSQL test pass proves no code path does it. */
     "ALTER TABLE exams ADD COLUMN pseudonym TEXT;"
     "UPDATE exams x SET pseudonym = s.pseudonym FROM subjects s WHERE s.id = x.subject_id;"
     "ALTER TABLE exams ALTER COLUMN pseudonym SET NOT NULL;"
     "ALTER TABLE observations ADD COLUMN pseudonym TEXT;"
     "UPDATE observations o SET pseudonym = x.pseudonym FROM exams x WHERE x.id = o.exam_id;"
     "ALTER TABLE observations ALTER COLUMN pseudonym SET NOT NULL;"
     "ALTER TABLE exam_flags ADD COLUMN pseudonym TEXT;"
     "UPDATE exam_flags f SET pseudonym = x.pseudonym FROM exams x WHERE x.id = f.exam_id;"
     "ALTER TABLE exam_flags ALTER COLUMN pseudonym SET NOT NULL;"
     "DO $$ DECLARE c record; BEGIN"
     "  FOR c IN SELECT conrelid::regclass AS t, conname FROM pg_constraint"
     "    WHERE contype = 'f' AND conparentid = 0"
     "    AND confrelid IN ('subjects'::regclass, 'exams'::regclass) LOOP"
     "    EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', c.t, c.conname);"
     "  END LOOP;"
     "END $$;"
     "ALTER TABLE subjects DROP CONSTRAINT subjects_pkey;"
     "ALTER TABLE subjects ADD PRIMARY KEY (id, pseudonym);"
     "ALTER TABLE exams DROP CONSTRAINT exams_pkey;"
     "ALTER TABLE exams DROP CONSTRAINT exams_source_record_key_version_key;"
     "ALTER TABLE exams ADD PRIMARY KEY (id, pseudonym);"
     "ALTER TABLE exams ADD FOREIGN KEY (pseudonym) REFERENCES subjects(pseudonym);"
     "ALTER TABLE observations DROP CONSTRAINT observations_pkey;"
     "ALTER TABLE observations ADD PRIMARY KEY (exam_id, seq, fiscal_year, pseudonym);"
     "ALTER TABLE observations ADD FOREIGN KEY (exam_id, pseudonym) REFERENCES exams(id, pseudonym);"
     "ALTER TABLE exam_flags DROP CONSTRAINT exam_flags_pkey;"
     "ALTER TABLE exam_flags ADD PRIMARY KEY (exam_id, item, pseudonym);"
     "ALTER TABLE exam_flags ADD FOREIGN KEY (exam_id, pseudonym) REFERENCES exams(id, pseudonym);"
     "ALTER TABLE consents DROP CONSTRAINT consents_pkey;"
     "ALTER TABLE consents ADD PRIMARY KEY (id, pseudonym);"
     "ALTER TABLE sensor_readings DROP CONSTRAINT sensor_readings_pkey;"
     "ALTER TABLE sensor_readings ADD PRIMARY KEY (id, pseudonym);"
     "ALTER TABLE point_ledger DROP CONSTRAINT point_ledger_pkey;"
     "ALTER TABLE point_ledger ADD PRIMARY KEY (id, pseudonym);"
     EXAM_KEYS
     "CREATE FUNCTION kb_distribution_guard() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
     "  RAISE EXCEPTION '%.% is a distribution column and is never updated (move the row instead; docs/SCALING.md)',"
     "    TG_TABLE_NAME, TG_ARGV[0];"
     "END $$;"
     "CREATE TRIGGER subjects_distribution BEFORE UPDATE OF pseudonym ON subjects FOR EACH ROW"
     "  WHEN (OLD.pseudonym IS DISTINCT FROM NEW.pseudonym) EXECUTE FUNCTION kb_distribution_guard('pseudonym');"
     "CREATE TRIGGER exams_distribution BEFORE UPDATE OF pseudonym ON exams FOR EACH ROW"
     "  WHEN (OLD.pseudonym IS DISTINCT FROM NEW.pseudonym) EXECUTE FUNCTION kb_distribution_guard('pseudonym');"
     "CREATE TRIGGER observations_distribution BEFORE UPDATE OF pseudonym ON observations FOR EACH ROW"
     "  WHEN (OLD.pseudonym IS DISTINCT FROM NEW.pseudonym) EXECUTE FUNCTION kb_distribution_guard('pseudonym');"
     "CREATE TRIGGER exam_flags_distribution BEFORE UPDATE OF pseudonym ON exam_flags FOR EACH ROW"
     "  WHEN (OLD.pseudonym IS DISTINCT FROM NEW.pseudonym) EXECUTE FUNCTION kb_distribution_guard('pseudonym');"
     "CREATE TRIGGER consents_distribution BEFORE UPDATE OF pseudonym ON consents FOR EACH ROW"
     "  WHEN (OLD.pseudonym IS DISTINCT FROM NEW.pseudonym) EXECUTE FUNCTION kb_distribution_guard('pseudonym');"
     "CREATE TRIGGER sensor_readings_distribution BEFORE UPDATE OF pseudonym ON sensor_readings FOR EACH ROW"
     "  WHEN (OLD.pseudonym IS DISTINCT FROM NEW.pseudonym) EXECUTE FUNCTION kb_distribution_guard('pseudonym');"
     "CREATE TRIGGER point_ledger_distribution BEFORE UPDATE OF pseudonym ON point_ledger FOR EACH ROW"
     "  WHEN (OLD.pseudonym IS DISTINCT FROM NEW.pseudonym) EXECUTE FUNCTION kb_distribution_guard('pseudonym');"
     "CREATE TRIGGER exam_keys_distribution BEFORE UPDATE OF record_key ON exam_keys FOR EACH ROW"
     "  WHEN (OLD.record_key IS DISTINCT FROM NEW.record_key) EXECUTE FUNCTION kb_distribution_guard('record_key');"},
    {9, "observations keep the sender's group relation, method and reference range",
     /* owner: ingest/import.c.  Real hc08 files group 詳細な健診 items
      * (COMP values, RSON reason), name the 検査方法 and carry the
      * institution's own reference range; the member and the institution
      * see that range beside ours, and a FHIR document written back out
      * carries them again.  Added columns, so rows already stored read as
      * "not sent". */
     "ALTER TABLE observations ADD COLUMN rel TEXT;"
     "ALTER TABLE observations ADD COLUMN method TEXT;"
     "ALTER TABLE observations ADD COLUMN ref_low TEXT;"
     "ALTER TABLE observations ADD COLUMN ref_high TEXT;",
     NULL},
    {10, "insurer roster: eligibility by pseudonym",
     /* owner: ingest/roster.c (writes), analytics/statutory.c (reads).  What
      * the statutory figures need of a member, and nothing that identifies
      * them: the roster's source (the feed, as exams.source), the insurer
      * and the member record as keyed tokens, the
      * eligibility period (資格取得日, 喪失日), an exclusion under 告示第3号
      * with its period, sex, and the age at the end of fiscal year ref_fy
      * (age at any other year's end follows by adding years: the birth date
      * never leaves the identity store). */
     "CREATE TABLE roster_members ("
     "  id {id},"
     "  pseudonym TEXT NOT NULL,"
     "  source TEXT NOT NULL,"
     "  insurer_token TEXT NOT NULL,"
     "  member_token TEXT NOT NULL,"
     "  version INTEGER NOT NULL,"
     "  current INTEGER NOT NULL DEFAULT 1,"
     "  sex INTEGER NOT NULL DEFAULT 0,"
     "  ref_fy INTEGER NOT NULL,"
     "  ref_age INTEGER NOT NULL,"
     "  eligible_from TEXT NOT NULL,"
     "  eligible_to TEXT,"
     "  exclusion TEXT NOT NULL DEFAULT '',"
     "  exclusion_from TEXT,"
     "  exclusion_to TEXT,"
     "  imported_at TEXT NOT NULL);"
     "CREATE INDEX roster_members_insurer ON roster_members(insurer_token, current);"
     "CREATE INDEX roster_members_member ON roster_members(member_token, current);",
     NULL},
    {11, "特定保健指導 episodes",
     /* owner: portal/guidance.c.  One episode per person and checkup fiscal
      * year: the level, the 初回面接 (date, form), the 3-month 実績評価 with
      * weight and waist change and the 2 cm / 2 kg outcome, and how it
      * ended.  Health data by pseudonym, like exams; the provider's own ids
      * for the member stay in its file, never here. */
     "CREATE TABLE guidance_episodes ("
     "  id {id},"
     "  pseudonym TEXT NOT NULL,"
     "  fiscal_year INTEGER NOT NULL,"
     "  level INTEGER NOT NULL,"
     "  provider TEXT NOT NULL,"
     "  start_date TEXT NOT NULL,"
     "  form TEXT NOT NULL,"
     "  status TEXT NOT NULL,"
     "  eval_date TEXT,"
     "  weight_change DOUBLE PRECISION,"
     "  waist_change DOUBLE PRECISION,"
     "  outcome_2cm2kg INTEGER,"
     "  end_date TEXT,"
     "  recorded_by TEXT NOT NULL,"
     "  recorded_at TEXT NOT NULL,"
     "  UNIQUE (pseudonym, fiscal_year));"
     /* owner: portal/guidance.c.  The interim contacts (中間評価, 継続支援)
      * of an episode, replaced whole when the episode is recorded again. */
     "CREATE TABLE guidance_contacts ("
     "  episode_id BIGINT NOT NULL,"
     "  seq INTEGER NOT NULL,"
     "  pseudonym TEXT NOT NULL,"
     "  contact_date TEXT NOT NULL,"
     "  form TEXT NOT NULL,"
     "  PRIMARY KEY (episode_id, seq));"
     "CREATE INDEX guidance_episodes_fy ON guidance_episodes(fiscal_year);",
     NULL},
    {12, "受診勧奨 follow-up: visits",
     /* owner: portal/referrals.c.  A visit to a doctor after a checkup that
      * flagged 受診勧奨 (exam_flags level 2), reported by an institution or
      * the insurer; fiscal_year is the checkup's.  A referral is followed
      * until a visit on or after its exam date is recorded, or the year
      * ends. */
     "CREATE TABLE referral_visits ("
     "  id {id},"
     "  pseudonym TEXT NOT NULL,"
     "  fiscal_year INTEGER NOT NULL,"
     "  visit_date TEXT NOT NULL,"
     "  institution TEXT NOT NULL,"
     "  recorded_by TEXT NOT NULL,"
     "  recorded_at TEXT NOT NULL);"
     "CREATE INDEX referral_visits_subject ON referral_visits(pseudonym, fiscal_year);",
     NULL},
    {13, "a subject split off another names it",
     /* owner: ident/resolver.c (kb_persons_split).  The exams of a wrongly
      * merged record move to a subject of their own but keep the pseudonym
      * they arrived under (their distribution column, as a merge keeps
      * it); split_from lets kenbank check tell that move from damage.  No
      * foreign key on PostgreSQL: like merged_into it crosses persons. */
     "ALTER TABLE subjects ADD COLUMN split_from BIGINT;",
     NULL},
    {14, "registered local items",
     /* owner: ingest/local_items.c.  Items no public table covers (an
      * operator's own risk rank per cancer type), registered by an operator
      * so that records carrying them are checked like any other item instead
      * of quarantined as unknown.  A definition is never changed once
      * stored: observations already checked against it keep their meaning. */
     "CREATE TABLE local_items ("
     "  code TEXT PRIMARY KEY,"
     "  system TEXT NOT NULL,"
     "  type TEXT NOT NULL,"
     "  unit TEXT NOT NULL DEFAULT '',"
     "  lo DOUBLE PRECISION,"
     "  hi DOUBLE PRECISION,"
     "  codes TEXT NOT NULL DEFAULT '',"
     "  name TEXT NOT NULL,"
     "  registered_by TEXT NOT NULL,"
     "  registered_at TEXT NOT NULL);",
     NULL},
    {15, "exams say whether they are a 特定健診 checkup or a cancer screening",
     /* owner: ingest/import.c.  A cancer screening document arrives as an
      * exam like any other (persons, versions, cohorts), but it is not a
      * 特定健診: the insurer report and dashboard count only checkups.
      * Rows stored before are checkups. */
     "ALTER TABLE exams ADD COLUMN kind TEXT NOT NULL DEFAULT 'checkup';",
     NULL},
};
const size_t kb_research_schema_len = sizeof kb_research_schema / sizeof kb_research_schema[0];
