"""radius_open_sessions(name, framed_protocol) keeps PostgreSQL's plan cache (migration 0013 forced a
custom plan each call, as 0010 does).

0010's custom plan pays because its bounds on acctstarttime let PostgreSQL prune radacct's months while
planning. 0013's PPP count has nothing to prune (a session open for months counts while its router
reports it), so a custom plan each call only plans every month again. On bench_pages (issue 23's size,
17 months of radacct), one connection, 300 calls each: 0010's count 0.259 ms, the two-argument
function for a hotspot user (it hands over to 0010's) 0.269 ms, for a PPP user 1.620 ms with a custom
plan each call and 0.057 ms with the cached plan (a second round: 0.297, 0.270 and 0.065 ms).
"""
import importlib

from django.db import migrations

BEFORE = importlib.import_module("radius.migrations.0013_open_ppp_sessions")
FUNCTION = BEFORE.FUNCTION.replace("LANGUAGE plpgsql STABLE SET plan_cache_mode = force_custom_plan AS $$",
                                   "LANGUAGE plpgsql STABLE AS $$")
assert FUNCTION != BEFORE.FUNCTION, "0013's function is not the one this migration was written for"


class Migration(migrations.Migration):
    dependencies = [("radius", "0013_open_ppp_sessions")]
    operations = [migrations.RunPython(BEFORE.postgresql_only(FUNCTION), BEFORE.postgresql_only(BEFORE.FUNCTION))]
