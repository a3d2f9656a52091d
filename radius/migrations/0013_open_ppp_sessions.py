"""radius_open_sessions(name, framed_protocol): Simultaneous-Use counts a PPP session however long it
has been open.

Migration 0010 bounds the count to sessions started in the last 31 days, so PostgreSQL prunes
radacct's months: a hotspot session never lasts that long. A PPPoE customer's session does: a home
connection stays up for months, and a session started 40 days ago would no longer count, letting
the same credentials in twice. FreeRADIUS passes the reply's Framed-Protocol (PPP for a PPPoE
customer: hotspot.pppoe) with the username (radius/raddb/mods-enabled/sql). For a PPP user an open
session counts when it started within the bound, or whenever it started if the NAS still reported
it within RECENT_UPDATE (its Interim-Updates come every few minutes; one silent longer than that is
stale and is closed by radius.sessions.close_stale_sessions anyway). That arm reads every month's
open-session index for the user: PPP logins are rare (one per connection, kept for days), and every
other login keeps 0010's pruned count unchanged.
"""
from django.db import migrations

OPEN_FOR_AT_MOST = "31 days"
RECENT_UPDATE = "1 day"

FUNCTION = f"""
CREATE OR REPLACE FUNCTION radius_open_sessions(name text, framed_protocol text) RETURNS bigint
LANGUAGE plpgsql STABLE SET plan_cache_mode = force_custom_plan AS $$
DECLARE
    earliest timestamptz := now() - interval '{OPEN_FOR_AT_MOST}';
    updated_since timestamptz := now() - interval '{RECENT_UPDATE}';
BEGIN
    IF framed_protocol IS DISTINCT FROM 'PPP' THEN
        RETURN radius_open_sessions(name);
    END IF;
    -- Sessions a NAS still had when it rebooted (Accounting-On) no longer count.
    RETURN (SELECT COUNT(a.radacctid) FROM radacct a LEFT JOIN nasreload n USING (nasipaddress)
            WHERE a.username = name AND a.acctstoptime IS NULL
              AND (a.acctstarttime >= earliest OR a.acctupdatetime >= updated_since)
              AND (n.reloadtime IS NULL OR a.acctstarttime > n.reloadtime));
END $$;
"""
DROP = "DROP FUNCTION IF EXISTS radius_open_sessions(text, text);"


def postgresql_only(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)
    return run


class Migration(migrations.Migration):
    dependencies = [("radius", "0012_data_allowance_custom_plan")]
    operations = [migrations.RunPython(postgresql_only(FUNCTION), postgresql_only(DROP))]
