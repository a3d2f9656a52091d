"""radius_data_allowance() (fair use and data limits, at each authentication of a user with an
allowance) reads only the months of the allowance's period.

On the partitioned radacct (migration 0009) the usage sum ran under plpgsql's cached generic plan:
PostgreSQL planned and locked every month partition on each call and pruned only when execution
started, so an authentication with an allowance cost about twice the CPU of the plain table
(bench/radius_auth.py). As radius_open_sessions() does since 0010, the function now gets a custom
plan each call (plan_cache_mode = force_custom_plan): the period's start (Hotspot-Quota-Since, the
subscription's start) and an upper bound a day ahead are planned as constants, so only the months
from the period's start to now are planned, locked and read. Same signature and answer as 0007.
"""
import importlib

from django.db import migrations

BEFORE = importlib.import_module("radius.migrations.0007_databoost")
ZERO_FIVE = importlib.import_module("radius.migrations.0005_data_allowance_function")

FUNCTIONS = """
CREATE OR REPLACE FUNCTION radius_data_allowance(name text, since_epoch bigint, period_limit bigint,
                                                 daily_limit bigint, zone text) RETURNS text
LANGUAGE plpgsql STABLE SET plan_cache_mode = force_custom_plan AS $$
DECLARE
    since timestamptz := to_timestamp(since_epoch);
    midnight timestamptz;
    period_used bigint;
    day_used bigint;
    period_left bigint;
    day_left bigint;
    seconds bigint := 0;
    extra bigint;
    fast boolean;
    -- Months made ahead are empty: as a variable, planned as a constant in the custom plan.
    latest timestamptz := now() + interval '1 day';
BEGIN
    IF daily_limit > 0 THEN
        midnight := date_trunc('day', now() AT TIME ZONE zone) AT TIME ZONE zone;
        seconds := ceil(extract(epoch FROM (midnight AT TIME ZONE zone + interval '1 day') AT TIME ZONE zone
                                - now()));
    ELSE
        midnight := 'infinity';
    END IF;
    SELECT COALESCE(SUM(b.extra_bytes), 0), COALESCE(bool_or(b.full_speed), false) INTO extra, fast
      FROM radius_databoost b WHERE b.username = name AND b.since = since_epoch AND b.until > now();
    IF fast THEN
        -- Full speed bought: nothing is used up until the boost ends (a TiB stands for "plenty").
        RETURN 1099511627776 || ' ' || seconds || ' period';
    END IF;
    SELECT COALESCE(SUM(COALESCE(acctinputoctets, 0) + COALESCE(acctoutputoctets, 0)), 0),
           COALESCE(SUM(COALESCE(acctinputoctets, 0) + COALESCE(acctoutputoctets, 0))
                    FILTER (WHERE acctstarttime >= midnight), 0)
      INTO period_used, day_used
      FROM radacct WHERE username = name AND acctstarttime >= since AND acctstarttime < latest;
    period_left := CASE WHEN period_limit > 0 THEN GREATEST(period_limit + extra - period_used, 0) END;
    day_left := CASE WHEN daily_limit > 0 THEN GREATEST(daily_limit + extra - day_used, 0) END;
    IF day_left IS NOT NULL AND (period_left IS NULL OR day_left < period_left) THEN
        RETURN day_left || ' ' || seconds || ' day';
    END IF;
    RETURN COALESCE(period_left, 0) || ' ' || seconds || ' period';
END $$;
"""


class Migration(migrations.Migration):
    dependencies = [("radius", "0011_radacct_stopped_index")]
    operations = [migrations.RunPython(ZERO_FIVE.postgresql_only(FUNCTIONS),
                                       ZERO_FIVE.postgresql_only(BEFORE.FUNCTIONS))]
