"""radius_open_sessions(name) and radius_data_allowance() keep one cached plan per connection again
(issue 23: the auth p99 no worse than before partitioning; issue 20: p99 <= 5 ms at 1,000 req/s).

Migrations 0010 and 0012 gave both a custom plan each call so PostgreSQL would prune radacct's months
while planning. Planning is the cost: each call planned the surviving month partitions with every one of
their indexes (13 each, several partial, each predicate proved against the query) and paid more than
the lookup itself. A cached generic plan keeps the same time bounds as parameters: PostgreSQL prunes the
months when execution starts ("Subplans Removed"), so only this month's and last month's indexes are
read, as before; what it adds per call is a lock on each month partition (about 18), far cheaper than
planning two. Measured on bench/radius_auth.py's data (100,000 users, 1,000,000 radacct rows in 18
partitions), one connection, pgbench -M prepared, ms a call:
    Simultaneous-Use count   custom plan (0010) 0.245   cached plan 0.044   unpartitioned (0008) 0.033
    data allowance           custom plan (0012) 0.224   cached plan 0.085   unpartitioned (0008) 0.068
Same signatures and answers as 0010 and 0012 (their bodies unchanged; only plan_cache_mode differs).
The PPP count (0014) already keeps its cached plan.

radius_open_session_rows(name, framed_protocol): the sessions behind that count, for FreeRADIUS's
simul_verify_query (radius/raddb/mods-enabled/sql). rlm_sql runs it whenever the count reaches the
user's Simultaneous-Use (a user already online, about 1 in 20 requests in the bench), and the stock
query was plain text over radacct with no bound on acctstarttime: planned anew each time over every
month partition with all their indexes, 6.8 ms a call against 0.18 ms on the unpartitioned table, the
slowest step of the auth path (its p99). The function lists exactly the sessions the count counted
(the same bounds: the last 31 days, or for a PPP user also one its router reported within a day), with
a cached plan, so the verification agrees with the count and reads two months.
"""
import importlib

from django.db import migrations

OPEN = importlib.import_module("radius.migrations.0010_open_sessions_in_recent_months")
ALLOWANCE = importlib.import_module("radius.migrations.0012_data_allowance_custom_plan")
PPP = importlib.import_module("radius.migrations.0013_open_ppp_sessions")

CUSTOM = "SET plan_cache_mode = force_custom_plan AS $$"
CACHED = "SET plan_cache_mode = force_generic_plan AS $$"
# The functions' comments on planning follow the plan.
COMMENTS = {
    "-- (migration radius 0010). As variables, planned as constants in a custom plan: pruned at\n"
    "    -- planning, so only those months are planned and locked (a generic plan locks every month).":
    "-- (migration radius 0010). Pruned when the cached plan starts: only those months are read\n"
    "    -- (migration radius 0015).",
    "-- Months made ahead are empty: as a variable, planned as a constant in the custom plan.":
    "-- Months made ahead are empty: pruned when the cached plan starts (migration radius 0015).",
}
FUNCTIONS = OPEN.BOUNDED.replace(CUSTOM, CACHED) + ALLOWANCE.FUNCTIONS.replace(CUSTOM, CACHED)
for before, after in COMMENTS.items():
    assert before in FUNCTIONS, "0010's or 0012's function is not the one this migration was written for"
    FUNCTIONS = FUNCTIONS.replace(before, after)
assert FUNCTIONS.count(CACHED) == 2, "0010's or 0012's function is not the one this migration was written for"

# The columns and order of FreeRADIUS's simul_verify_query (mods-config/sql/main/postgresql/queries.conf).
OPEN_SESSION_ROWS = f"""
CREATE OR REPLACE FUNCTION radius_open_session_rows(name text, framed_protocol text)
RETURNS TABLE (o_radacctid bigint, o_acctsessionid text, o_username text, o_nasipaddress inet,
               o_nasportid text, o_framedipaddress inet, o_callingstationid text, o_framedprotocol text)
LANGUAGE plpgsql STABLE {CACHED}
DECLARE
    earliest timestamptz := now() - interval '{OPEN.OPEN_FOR_AT_MOST}';
    latest timestamptz := now() + interval '1 day';
    updated_since timestamptz := now() - interval '{PPP.RECENT_UPDATE}';
BEGIN
    -- The sessions radius_open_sessions(name, framed_protocol) counts (migrations radius 0010, 0013).
    IF framed_protocol IS DISTINCT FROM 'PPP' THEN
        RETURN QUERY
            SELECT a.radacctid, a.acctsessionid::text, a.username::text, a.nasipaddress, a.nasportid::text,
                   a.framedipaddress, a.callingstationid::text, a.framedprotocol::text
            FROM radacct a LEFT JOIN nasreload n USING (nasipaddress)
            WHERE a.username = name AND a.acctstoptime IS NULL
              AND a.acctstarttime >= earliest AND a.acctstarttime < latest
              AND (n.reloadtime IS NULL OR a.acctstarttime > n.reloadtime);
    ELSE
        RETURN QUERY
            SELECT a.radacctid, a.acctsessionid::text, a.username::text, a.nasipaddress, a.nasportid::text,
                   a.framedipaddress, a.callingstationid::text, a.framedprotocol::text
            FROM radacct a LEFT JOIN nasreload n USING (nasipaddress)
            WHERE a.username = name AND a.acctstoptime IS NULL
              AND (a.acctstarttime >= earliest OR a.acctupdatetime >= updated_since)
              AND (n.reloadtime IS NULL OR a.acctstarttime > n.reloadtime);
    END IF;
END $$;
"""
DROP_OPEN_SESSION_ROWS = "DROP FUNCTION IF EXISTS radius_open_session_rows(text, text);"


class Migration(migrations.Migration):
    dependencies = [("radius", "0014_open_ppp_sessions_cached_plan")]
    operations = [migrations.RunPython(
        OPEN.postgresql_only(FUNCTIONS + OPEN_SESSION_ROWS),
        OPEN.postgresql_only(OPEN.BOUNDED + ALLOWANCE.FUNCTIONS + DROP_OPEN_SESSION_ROWS))]
