"""radacct as a PostgreSQL table partitioned by month of acctstarttime (issue 23).

At an ISP's size radacct holds tens of millions of rows; a month is one partition, so retention
drops a month's table (radius.partitions.drop_old_months) instead of deleting its rows, and each
partition carries the same indexes (the open-session and per-user ones included) on a month only.

What PostgreSQL requires, and how it is met:
- A unique index on a partitioned table must contain the partition key, so neither the primary key
  (radacctid) nor acctuniqueid's UNIQUE can stay as FreeRADIUS's schema has them. The primary key is
  (radacctid, acctstarttime); radacctid still comes from one sequence, so it stays unique alone and
  Django keeps it as the model's primary key. acctstarttime becomes NOT NULL (a key column): every
  FreeRADIUS accounting query writes it.
- acctuniqueid stays unique across the whole table through a BEFORE INSERT trigger: it takes a
  transaction lock on the value's hash, then looks it up in every partition (an index on acctuniqueid in
  each) and raises unique_violation (SQLSTATE 23505), exactly what the UNIQUE index raised. A row
  that an UPDATE moves to another month is the same row (same radacctid) and passes.
- FreeRADIUS's ON CONFLICT (AcctUniqueId) clauses need that unique index: radius.freeradius drops
  the clauses from its copy of queries.conf, and rlm_sql treats the 23505 of a duplicate as it
  documents ("try the next query"), which lands each duplicate where ON CONFLICT did.
- Rows outside every month partition (NULL start moved to its update/stop time, far past or far
  future clocks) land in radacct_default; radacct_add_month() moves a month's rows out of it when
  it makes that month's partition.

The migration makes a partition for every month from the retention window's start (or the oldest
row, if newer) to two months ahead, copies the rows, then builds the indexes on the parent, which
PostgreSQL builds on each partition. The copy holds radacct for its duration (FreeRADIUS's
accounting waits or is re-sent by the routers): at ten million rows, minutes; plan it for a quiet
hour. SQLite (the quick start) keeps its plain table: every operation here is PostgreSQL only.
"""
from django.conf import settings
from django.db import migrations

FUNCTIONS = """
-- Its lookup must use each partition's acctuniqueid index whatever the statistics say: planned on an
-- empty table, a sequential scan is cheapest, and a bulk INSERT that keeps that cached plan rescans
-- the rows it has inserted so far, for every row it adds.
CREATE OR REPLACE FUNCTION radacct_unique_session() RETURNS trigger LANGUAGE plpgsql
SET enable_seqscan = off AS $$
BEGIN
    -- Serialises inserts of one acctuniqueid until the first commits; the lookup below then sees it
    -- (each statement in PL/pgSQL takes a fresh snapshot under READ COMMITTED). One of 256 locks
    -- by hash, not one per value: a bulk INSERT of many rows holds at most 256 until it commits,
    -- where a lock per row would exhaust PostgreSQL's lock table.
    PERFORM pg_advisory_xact_lock(1380009281, hashtext(NEW.acctuniqueid) & 255);
    IF EXISTS (SELECT 1 FROM radacct WHERE acctuniqueid = NEW.acctuniqueid AND radacctid <> NEW.radacctid) THEN
        RAISE EXCEPTION 'duplicate key value violates unique constraint "radacct_acctuniqueid_key"'
            USING ERRCODE = 'unique_violation', CONSTRAINT = 'radacct_acctuniqueid_key',
                  DETAIL = format('Key (acctuniqueid)=(%s) already exists.', NEW.acctuniqueid);
    END IF;
    RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION radacct_add_month(day timestamptz) RETURNS text LANGUAGE plpgsql AS $$
-- The partition of the UTC month holding ``day``, made if missing (rows of that month waiting in
-- radacct_default are moved into it); returns its name.
DECLARE
    month_start timestamptz := date_trunc('month', day AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
    month_end timestamptz := month_start + interval '1 month';
    partition_name text := 'radacct_' || to_char(month_start AT TIME ZONE 'UTC', 'YYYY_MM');
BEGIN
    IF to_regclass(partition_name) IS NOT NULL THEN
        RETURN partition_name;
    END IF;
    -- Held until commit: no accounting row lands in the default partition meanwhile.
    LOCK TABLE radacct IN SHARE ROW EXCLUSIVE MODE;
    CREATE TEMP TABLE radacct_moving (LIKE radacct) ON COMMIT DROP;
    WITH moved AS (DELETE FROM radacct_default WHERE acctstarttime >= month_start AND acctstarttime < month_end
                   RETURNING *)
    INSERT INTO radacct_moving SELECT * FROM moved;
    EXECUTE format('CREATE TABLE %I PARTITION OF radacct FOR VALUES FROM (%L) TO (%L)',
                   partition_name, month_start, month_end);
    INSERT INTO radacct SELECT * FROM radacct_moving;
    DROP TABLE radacct_moving;
    RETURN partition_name;
END $$;
"""

CREATE_TABLE = """
LOCK TABLE radacct IN ACCESS EXCLUSIVE MODE;
ALTER TABLE radacct RENAME TO radacct_unpartitioned;
ALTER TABLE radacct_unpartitioned DROP CONSTRAINT radacct_pkey, DROP CONSTRAINT radacct_acctuniqueid_key;
DO $$
DECLARE index_name text;
BEGIN
    FOR index_name IN SELECT indexname FROM pg_indexes
                      WHERE schemaname = current_schema() AND tablename = 'radacct_unpartitioned' LOOP
        EXECUTE format('DROP INDEX %I', index_name);
    END LOOP;
END $$;
CREATE TEMP TABLE radacct_next_id ON COMMIT DROP AS
    SELECT GREATEST((SELECT max(radacctid) FROM radacct_unpartitioned),
                    (SELECT last_value FROM radacct_radacctid_seq)) AS last_id;
ALTER TABLE radacct_unpartitioned ALTER COLUMN radacctid DROP IDENTITY;
UPDATE radacct_unpartitioned SET acctstarttime = COALESCE(acctupdatetime, acctstoptime, 'epoch')
    WHERE acctstarttime IS NULL;

CREATE TABLE radacct (LIKE radacct_unpartitioned INCLUDING DEFAULTS) PARTITION BY RANGE (acctstarttime);
ALTER TABLE radacct ALTER COLUMN acctstarttime SET NOT NULL;
CREATE SEQUENCE radacct_radacctid_seq OWNED BY radacct.radacctid;
ALTER TABLE radacct ALTER COLUMN radacctid SET DEFAULT nextval('radacct_radacctid_seq');
SELECT setval('radacct_radacctid_seq', COALESCE((SELECT last_id FROM radacct_next_id), 1),
              (SELECT last_id FROM radacct_next_id) IS NOT NULL);
CREATE TABLE radacct_default PARTITION OF radacct DEFAULT;
"""

FILL = """
SELECT radacct_add_month(m) FROM generate_series(
    date_trunc('month', GREATEST(COALESCE((SELECT min(acctstarttime) FROM radacct_unpartitioned), now()),
                                 now() - %(retention)s * interval '1 day')),
    now() + interval '2 months', interval '1 month') AS m;
INSERT INTO radacct SELECT * FROM radacct_unpartitioned;
DROP TABLE radacct_unpartitioned;
"""

CONSTRAINTS = """
ALTER TABLE radacct ADD CONSTRAINT radacct_pkey PRIMARY KEY (radacctid, acctstarttime);
-- The trigger's lookup, and FreeRADIUS's Start/Stop fallbacks by AcctUniqueId without the open-only
-- condition (the unique index served both before).
CREATE INDEX radacct_acctuniqueid_idx ON radacct (acctuniqueid);
CREATE TRIGGER radacct_unique_session BEFORE INSERT ON radacct
    FOR EACH ROW EXECUTE FUNCTION radacct_unique_session();
ANALYZE radacct;
"""

UNPARTITION = """
LOCK TABLE radacct IN ACCESS EXCLUSIVE MODE;
CREATE TABLE radacct_plain (LIKE radacct INCLUDING DEFAULTS);
ALTER TABLE radacct_plain ALTER COLUMN radacctid DROP DEFAULT;
INSERT INTO radacct_plain SELECT * FROM radacct;
CREATE TEMP TABLE radacct_next_id ON COMMIT DROP AS
    SELECT GREATEST((SELECT max(radacctid) FROM radacct), (SELECT last_value FROM radacct_radacctid_seq)) AS last_id;
DROP TABLE radacct;
DROP FUNCTION radacct_add_month(timestamptz);
DROP FUNCTION radacct_unique_session();
ALTER TABLE radacct_plain RENAME TO radacct;
ALTER TABLE radacct ALTER COLUMN acctstarttime DROP NOT NULL;
ALTER TABLE radacct ALTER COLUMN radacctid ADD GENERATED BY DEFAULT AS IDENTITY;
SELECT setval(pg_get_serial_sequence('radacct', 'radacctid'), COALESCE((SELECT last_id FROM radacct_next_id), 1),
              (SELECT last_id FROM radacct_next_id) IS NOT NULL);
ALTER TABLE radacct ADD CONSTRAINT radacct_pkey PRIMARY KEY (radacctid);
ALTER TABLE radacct ADD CONSTRAINT radacct_acctuniqueid_key UNIQUE (acctuniqueid);
"""


def _model_indexes(apps, schema_editor):
    """radacct's indexes as the model declares them (FreeRADIUS's and ours), on the parent table."""
    model = apps.get_model("radius", "RadAcct")
    for index in model._meta.indexes:
        schema_editor.add_index(model, index)


def partition(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(FUNCTIONS)  # no parameters: the % in format() strings stay as they are
        cursor.execute(CREATE_TABLE)
        cursor.execute(FILL, {"retention": settings.RADIUS_SESSION_RETENTION_DAYS})
    _model_indexes(apps, schema_editor)
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(CONSTRAINTS)


def unpartition(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(UNPARTITION)
    _model_indexes(apps, schema_editor)


class Migration(migrations.Migration):

    dependencies = [
        ("radius", "0008_search_indexes"),
    ]

    operations = [
        migrations.RunPython(partition, unpartition),
    ]
