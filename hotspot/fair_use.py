"""Fair use: what a package does once its data allowance (the period's or the day's) is used up.

A ``block`` package is rejected at the next sign-in, as before; a ``throttle`` one is accepted at its
fair-use rate. FreeRADIUS decides at sign-in from the package's group policy (radius/raddb/policy.d/
hotspot); sessions already online are slowed by radius.fair_use's job, by CoA.
"""
# Throttle packages' sessions send an interim update this often, and the job that slows them runs
# as often (settings: CELERY_BEAT_SCHEDULE "slow-down-crossed-sessions"): a session that crosses its
# allowance gets its CoA-Request at most INTERIM + beat seconds later.
INTERIM_SECONDS = 30
BOUND_SECONDS = 60
