"""Functions FreeRADIUS calls on the authentication path (PostgreSQL only).

rlm_sql sends plain query text, which PostgreSQL plans anew every time; inside PL/pgSQL the same
statements are prepared once per connection and their plans reused. Each function returns the
columns, in order, that the rlm_sql query it replaces returned.
"""
from django.db import migrations

FUNCTIONS = """
CREATE OR REPLACE FUNCTION radius_check_items(name text)
RETURNS TABLE (o_id integer, o_username text, o_attribute text, o_value text, o_op varchar)
LANGUAGE plpgsql STABLE AS $$
BEGIN
    -- The user's own rows first, then their groups' by priority: a group's := wins, as in
    -- FreeRADIUS's own group processing.
    RETURN QUERY
        SELECT r.id, r.username, r.attribute, r.value, r.op FROM (
            SELECT 0 AS pass, c.id, c.username, c.attribute, c.value, c.op
            FROM radcheck c WHERE c.username = name
            UNION ALL
            SELECT 1 + g.priority, gc.id, g.username, gc.attribute, gc.value, gc.op
            FROM radusergroup g JOIN radgroupcheck gc ON gc.groupname = g.groupname
            WHERE g.username = name) AS r
        ORDER BY r.pass, r.id;
END $$;

CREATE OR REPLACE FUNCTION radius_reply_items(name text)
RETURNS TABLE (o_id integer, o_username text, o_attribute text, o_value text, o_op varchar)
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN QUERY
        SELECT r.id, r.username, r.attribute, r.value, r.op FROM (
            SELECT 0 AS pass, c.id, c.username, c.attribute, c.value, c.op
            FROM radreply c WHERE c.username = name
            UNION ALL
            SELECT 1 + g.priority, gr.id, g.username, gr.attribute, gr.value, gr.op
            FROM radusergroup g JOIN radgroupreply gr ON gr.groupname = g.groupname
            WHERE g.username = name) AS r
        ORDER BY r.pass, r.id;
END $$;

CREATE OR REPLACE FUNCTION radius_open_sessions(name text) RETURNS bigint
LANGUAGE plpgsql STABLE AS $$
BEGIN
    -- Sessions a NAS still had when it rebooted (Accounting-On) no longer count.
    RETURN (SELECT COUNT(a.radacctid) FROM radacct a LEFT JOIN nasreload n USING (nasipaddress)
            WHERE a.username = name AND a.acctstoptime IS NULL
              AND (n.reloadtime IS NULL OR a.acctstarttime > n.reloadtime));
END $$;

CREATE OR REPLACE FUNCTION radius_used_octets(name text, since_epoch bigint) RETURNS bigint
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (SELECT COALESCE(SUM(COALESCE(acctinputoctets, 0) + COALESCE(acctoutputoctets, 0)), 0)
            FROM radacct WHERE username = name AND acctstarttime >= to_timestamp(since_epoch));
END $$;

CREATE OR REPLACE FUNCTION radius_used_seconds(name text, since_epoch bigint) RETURNS bigint
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (SELECT COALESCE(SUM(COALESCE(acctsessiontime, 0)), 0)
            FROM radacct WHERE username = name AND acctstarttime >= to_timestamp(since_epoch));
END $$;
"""
DROP = """
DROP FUNCTION IF EXISTS radius_check_items(text);
DROP FUNCTION IF EXISTS radius_reply_items(text);
DROP FUNCTION IF EXISTS radius_open_sessions(text);
DROP FUNCTION IF EXISTS radius_used_octets(text, bigint);
DROP FUNCTION IF EXISTS radius_used_seconds(text, bigint);
"""


def postgresql_only(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)
    return run


class Migration(migrations.Migration):
    dependencies = [("radius", "0001_initial")]
    operations = [migrations.RunPython(postgresql_only(FUNCTIONS), postgresql_only(DROP))]
