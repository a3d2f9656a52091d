"""Boosts (issue 20): radius_databoost, and radius_data_allowance counting it.

A boost's bytes raise the period's and the day's allowance while it lasts; a full-speed boost
answers "not used up" while it lasts. Same signature and answer as migration 0005, so neither
policy.d/hotspot nor the fair-use job's query changes: both see a boost the moment it is written.
"""
import importlib

from django.db import migrations, models

BEFORE = importlib.import_module("radius.migrations.0005_data_allowance_function")

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
    extra bigint;
    fast boolean;
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
      FROM radacct WHERE username = name AND acctstarttime >= since;
    period_left := CASE WHEN period_limit > 0 THEN GREATEST(period_limit + extra - period_used, 0) END;
    day_left := CASE WHEN daily_limit > 0 THEN GREATEST(daily_limit + extra - day_used, 0) END;
    IF day_left IS NOT NULL AND (period_left IS NULL OR day_left < period_left) THEN
        RETURN day_left || ' ' || seconds || ' day';
    END IF;
    RETURN COALESCE(period_left, 0) || ' ' || seconds || ' period';
END $$;
"""


class Migration(migrations.Migration):

    dependencies = [
        ('radius', '0006_session_slowdown'),
    ]

    operations = [
        migrations.CreateModel(
            name='DataBoost',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('username', models.TextField()),
                ('since', models.BigIntegerField(help_text="The allowance's start (Hotspot-Quota-Since): boosts end with it")),
                ('extra_bytes', models.BigIntegerField(default=0)),
                ('full_speed', models.BooleanField(default=False)),
                ('until', models.DateTimeField()),
            ],
            options={
                'indexes': [models.Index(fields=['username', 'since'], name='radius_data_usernam_ab58b8_idx')],
            },
        ),
        migrations.RunPython(BEFORE.postgresql_only(FUNCTIONS), BEFORE.postgresql_only(BEFORE.FUNCTIONS)),
    ]
