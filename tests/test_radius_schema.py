"""Our migrated radius tables against the schema.sql FreeRADIUS ships: columns, types, defaults, indexes."""
import re
import uuid
from pathlib import Path

import psycopg
import pytest
from django.db import connection

SHIPPED_SCHEMA = Path("/etc/freeradius/3.0/mods-config/sql/main/postgresql/schema.sql")
TABLES = ("radacct", "radcheck", "radgroupcheck", "radgroupreply", "radreply", "radusergroup",
          "radpostauth", "nas", "nasreload")
# Indexes we add on purpose (see radius/models.py); everything else must match exactly.
OUR_EXTRA_INDEXES = {
    "CREATE INDEX radacct_open_user_idx ON radacct USING btree (username) WHERE (acctstoptime IS NULL)",
    "CREATE INDEX radacct_user_start_idx ON radacct USING btree (username, acctstarttime)",
    "CREATE INDEX radacct_open_update_idx ON radacct USING btree (acctupdatetime) WHERE (acctstoptime IS NULL)",
    "CREATE UNIQUE INDEX nas_nasname_unique ON nas USING btree (nasname)",
    "CREATE INDEX radpostauth_authdate_idx ON radpostauth USING btree (authdate, id)",
    "CREATE INDEX radacct_sessionid_idx ON radacct USING btree (acctsessionid)",
    "CREATE INDEX radacct_callingstation_idx ON radacct USING btree (callingstationid)",
    "CREATE INDEX radpostauth_callingstation_idx ON radpostauth USING btree (callingstationid)",
    "CREATE INDEX radacct_stopped_idx ON radacct USING btree (acctstoptime) WHERE (acctstoptime IS NOT NULL)",
}

# radacct is partitioned by month of acctstarttime (migration 0009): PostgreSQL wants the partition
# key in every unique index and NOT NULL in the primary key, so these differ from schema.sql on
# purpose. acctuniqueid stays unique through a trigger (test_radacct_partitions.py proves it).
PARTITIONED_INSTEAD = {
    "CREATE UNIQUE INDEX radacct_pkey ON radacct USING btree (radacctid)":
        "CREATE UNIQUE INDEX radacct_pkey ON radacct USING btree (radacctid, acctstarttime)",
    "CREATE UNIQUE INDEX radacct_acctuniqueid_key ON radacct USING btree (acctuniqueid)":
        "CREATE INDEX radacct_acctuniqueid_idx ON radacct USING btree (acctuniqueid)",
}
NOT_NULL_PARTITION_KEY = ("radacct", "acctstarttime")

COLUMNS = """
    SELECT table_name, column_name, data_type, character_maximum_length, is_nullable,
           column_default, is_identity
    FROM information_schema.columns WHERE table_schema = 'public' AND table_name = ANY(%s)
"""
INDEXES = "SELECT indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename = ANY(%s)"


def default(value, identity):
    if identity == "YES" or (value or "").startswith("nextval("):
        return "auto-increment"
    if value in ("now()", "statement_timestamp()", "STATEMENT_TIMESTAMP()"):
        return "now"
    return value


def describe(cursor):
    cursor.execute(COLUMNS, [list(TABLES)])
    columns = {(t, c): (dtype, length, nullable, default(dflt, ident))
               for t, c, dtype, length, nullable, dflt, ident in cursor.fetchall()}
    cursor.execute(INDEXES, [list(TABLES)])
    # A partitioned table's index reads "ON ONLY radacct": the same index as far as we compare.
    indexes = {re.sub(r"\bpublic\.", "", row[0]).replace(" ON ONLY ", " ON ") for row in cursor.fetchall()}
    return columns, indexes


@pytest.fixture
def stock():
    """The shipped schema.sql, loaded into a scratch database of its own."""
    assert SHIPPED_SCHEMA.exists(), "install freeradius-postgresql (./scripts/test does)"
    settings = connection.settings_dict
    params = dict(host=settings["HOST"], port=settings["PORT"], user=settings["USER"],
                  password=settings["PASSWORD"], autocommit=True)
    name = f"radius_stock_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(dbname="postgres", **params) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        with psycopg.connect(dbname=name, **params) as scratch:
            scratch.execute(SHIPPED_SCHEMA.read_text())
            with scratch.cursor() as cursor:
                yield describe(cursor)
    finally:
        with psycopg.connect(dbname="postgres", **params) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}"')


@pytest.mark.django_db
def test_our_columns_are_freeradius_columns(stock):
    stock_columns, _ = stock
    with connection.cursor() as cursor:
        ours, _ = describe(cursor)
    assert len(stock_columns) == 72  # the comparison is not vacuous
    assert stock_columns[NOT_NULL_PARTITION_KEY][2] == "YES" and ours[NOT_NULL_PARTITION_KEY][2] == "NO"
    ours[NOT_NULL_PARTITION_KEY] = stock_columns[NOT_NULL_PARTITION_KEY]
    assert ours == stock_columns


@pytest.mark.django_db
def test_our_indexes_are_freeradius_indexes_plus_the_listed_ones(stock):
    _, stock_indexes = stock
    with connection.cursor() as cursor:
        _, ours = describe(cursor)
    assert len(stock_indexes) == 22
    expected = (stock_indexes - set(PARTITIONED_INSTEAD)) | set(PARTITIONED_INSTEAD.values())
    assert expected - ours == set(), "FreeRADIUS indexes missing from our migrations"
    assert ours - expected == OUR_EXTRA_INDEXES
