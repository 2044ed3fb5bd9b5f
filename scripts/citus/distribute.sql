-- kenbank's research store on a Citus cluster: which table goes where.
--
-- Run once with psql on the coordinator, connected to the research database
-- as its owner, after `kenbank init --pg` has created the schema and before
-- the first import.  docs/SCALING.md explains the choices; the PostgreSQL
-- test pass (tests/integration/pg_citus.sh) checks this file against the
-- live schema: every table placed exactly once, and every key and foreign
-- key within the rules distributed tables must keep.  `kenbank init --citus`
-- runs it (embedded in the binary), and the Citus pass of `make test` runs
-- the store tests on the result.

CREATE EXTENSION IF NOT EXISTS citus;

-- Single-node kenbank guards its distribution columns with triggers (research
-- migration 8).  Citus refuses such updates itself, and does not run
-- triggers on distributed tables by default, so the guards go.
DROP TRIGGER subjects_distribution ON subjects;
DROP TRIGGER exams_distribution ON exams;
DROP TRIGGER observations_distribution ON observations;
DROP TRIGGER exam_flags_distribution ON exam_flags;
DROP TRIGGER consents_distribution ON consents;
DROP TRIGGER sensor_readings_distribution ON sensor_readings;
DROP TRIGGER point_ledger_distribution ON point_ledger;
DROP TRIGGER exam_keys_distribution ON exam_keys;

-- Small tables every node joins against: a copy on each.
SELECT create_reference_table('consent_texts');
SELECT create_reference_table('point_rules');
-- Operators' registered local items (issue 22): a small catalogue that
-- every node checks observations against.
SELECT create_reference_table('local_items');

-- Everything about one person, on one node, by the person's research
-- pseudonym.  A person's exam list, consent decision and portal page are
-- then single-node queries, and cohort counts run on every node at once.
SELECT create_distributed_table('subjects', 'pseudonym');
SELECT create_distributed_table('exams', 'pseudonym', colocate_with => 'subjects');
SELECT create_distributed_table('observations', 'pseudonym', colocate_with => 'subjects');
SELECT create_distributed_table('exam_flags', 'pseudonym', colocate_with => 'subjects');
SELECT create_distributed_table('consents', 'pseudonym', colocate_with => 'subjects');
SELECT create_distributed_table('sensor_readings', 'pseudonym', colocate_with => 'subjects');
SELECT create_distributed_table('point_ledger', 'pseudonym', colocate_with => 'subjects');

-- The importer's duplicate check, found by the source record alone (a
-- corrected version may belong to another person than the first).
SELECT create_distributed_table('exam_keys', 'record_key', colocate_with => 'none');

-- Left on the coordinator as ordinary tables:
-- coordinator-local: audit_log audit_head export_log kb_meta schema_migrations
-- coordinator-local: bb_specimens bb_pool_members bb_freezers bb_racks bb_boxes bb_positions
-- coordinator-local: bb_applications bb_app_requests bb_app_events bb_reviews bb_distributions bb_results
-- coordinator-local: roster_members guidance_episodes guidance_contacts referral_visits
-- The audit log is one hash chain, appended in order; the biobank is one
-- institution's inventory (pools mix donors, positions are physical places),
-- read by barcode rather than by person.  The insurer tables of issue 19
-- (roster, 特定保健指導, 受診勧奨 visits) are per person by pseudonym but small
-- (one row per member or episode, not per observation) and new: they stay on
-- the coordinator until their keys are reshaped to hold the pseudonym and
-- they get distribution guards, as research migration 8 did for the others.

-- A COPY into a distributed table opens a connection to each of its shards
-- on a worker, and the importer copies into two colocation groups per batch
-- (the person's tables and exam_keys).  With Citus's default of one cached
-- connection per worker, every batch opened and authenticated the rest
-- anew: 186 ms per exam_keys COPY, half of a Citus import's time.  Keeping
-- two per shard of a worker open makes that 7 ms.  A database setting, so
-- every kenbank session on the coordinator has it and nothing else does.
DO $$ DECLARE w int; BEGIN SELECT greatest(count(*), 1) INTO w FROM citus_get_active_worker_nodes(); EXECUTE format('ALTER DATABASE %I SET citus.max_cached_conns_per_worker = %s', current_database(), 2 * ((current_setting('citus.shard_count')::int + w - 1) / w)); END $$;
