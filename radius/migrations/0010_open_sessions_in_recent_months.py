"""radius_open_sessions() (Simultaneous-Use, on every authentication) reads only the months an open
session can be in.

On the partitioned radacct (migration 0009) the lookup by username alone probed the open-session
index of every month partition, from the retention window's start to two months ahead: 16-30 % more
CPU per authentication than the plain table (README, bench/radius_auth.py). A bound on acctstarttime
computed in the function and planned as constants (a custom plan each call) lets PostgreSQL prune
the partitions while planning, so the count plans, locks and reads this month's and last month's
partitions only (radacct_default too if a month's partition is missing: pruning keeps it
whenever the range is not covered by months).

Why the bound is sound: a session that started more than OPEN_FOR_AT_MOST ago is stale and must not
block a login. A hotspot session ends with its subscription (FreeRADIUS's expiration module answers
with a Session-Timeout up to the Expiration) or its Session-Timeout / Idle-Timeout long before a
month; a row still open after that lost its Stop, and the stale-session job (radius.sessions.
close_stale_sessions) closes such rows anyway once the NAS stops sending Interim-Updates for them.
Counting them would lock the customer out until then. The upper bound (a day of slack, as the
Interim-Update and Stop queries in radius.freeradius allow for router clocks) leaves out the months
made ahead, which are empty.
"""
from django.db import migrations

OPEN_FOR_AT_MOST = "31 days"

BOUNDED = f"""
CREATE OR REPLACE FUNCTION radius_open_sessions(name text) RETURNS bigint
LANGUAGE plpgsql STABLE SET plan_cache_mode = force_custom_plan AS $$
DECLARE
    -- Sessions started more than {OPEN_FOR_AT_MOST} ago are stale, whatever radacct says
    -- (migration radius 0010). As variables, planned as constants in a custom plan: pruned at
    -- planning, so only those months are planned and locked (a generic plan locks every month).
    earliest timestamptz := now() - interval '{OPEN_FOR_AT_MOST}';
    latest timestamptz := now() + interval '1 day';
BEGIN
    -- Sessions a NAS still had when it rebooted (Accounting-On) no longer count.
    RETURN (SELECT COUNT(a.radacctid) FROM radacct a LEFT JOIN nasreload n USING (nasipaddress)
            WHERE a.username = name AND a.acctstoptime IS NULL
              AND a.acctstarttime >= earliest AND a.acctstarttime < latest
              AND (n.reloadtime IS NULL OR a.acctstarttime > n.reloadtime));
END $$;
"""

UNBOUNDED = """
CREATE OR REPLACE FUNCTION radius_open_sessions(name text) RETURNS bigint
LANGUAGE plpgsql STABLE AS $$
BEGIN
    -- Sessions a NAS still had when it rebooted (Accounting-On) no longer count.
    RETURN (SELECT COUNT(a.radacctid) FROM radacct a LEFT JOIN nasreload n USING (nasipaddress)
            WHERE a.username = name AND a.acctstoptime IS NULL
              AND (n.reloadtime IS NULL OR a.acctstarttime > n.reloadtime));
END $$;
"""


def postgresql_only(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)
    return run


class Migration(migrations.Migration):
    dependencies = [("radius", "0009_radacct_partitions")]
    operations = [migrations.RunPython(postgresql_only(BOUNDED), postgresql_only(UNBOUNDED))]
