"""radius_data_allowance(): the data a member has left, in one call on the authentication path.

Fair use adds a daily allowance (from midnight in the business's time zone) to the period's: one
scan of the user's radacct rows since the subscription started sums both, so a member with an
allowance costs FreeRADIUS one query whichever they have. The answer is text FreeRADIUS splits with
a regular expression (an xlat returns one value): "<bytes left> <seconds to midnight> <day|period>",
bytes left never below 0, seconds 0 without a daily allowance, and which allowance binds.
"""
from django.db import migrations

FUNCTIONS = """
CREATE OR REPLACE FUNCTION radius_data_allowance(name text, since_epoch bigint, period_limit bigint,
                                                 daily_limit bigint, zone text) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
    since timestamptz := to_timestamp(since_epoch);
    midnight timestamptz;
    period_used bigint;
    day_used bigint;
    period_left bigint;
    day_left bigint;
    seconds bigint := 0;
BEGIN
    IF daily_limit > 0 THEN
        midnight := date_trunc('day', now() AT TIME ZONE zone) AT TIME ZONE zone;
        seconds := ceil(extract(epoch FROM (midnight AT TIME ZONE zone + interval '1 day') AT TIME ZONE zone
                                - now()));
    ELSE
        midnight := 'infinity';
    END IF;
    SELECT COALESCE(SUM(COALESCE(acctinputoctets, 0) + COALESCE(acctoutputoctets, 0)), 0),
           COALESCE(SUM(COALESCE(acctinputoctets, 0) + COALESCE(acctoutputoctets, 0))
                    FILTER (WHERE acctstarttime >= midnight), 0)
      INTO period_used, day_used
      FROM radacct WHERE username = name AND acctstarttime >= since;
    period_left := CASE WHEN period_limit > 0 THEN GREATEST(period_limit - period_used, 0) END;
    day_left := CASE WHEN daily_limit > 0 THEN GREATEST(daily_limit - day_used, 0) END;
    IF day_left IS NOT NULL AND (period_left IS NULL OR day_left < period_left) THEN
        RETURN day_left || ' ' || seconds || ' day';
    END IF;
    RETURN COALESCE(period_left, 0) || ' ' || seconds || ' period';
END $$;
"""
DROP = "DROP FUNCTION IF EXISTS radius_data_allowance(text, bigint, bigint, bigint, text);"


def postgresql_only(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)
    return run


class Migration(migrations.Migration):
    dependencies = [("radius", "0004_nas_unique_nasname")]
    operations = [migrations.RunPython(postgresql_only(FUNCTIONS), postgresql_only(DROP))]
