"""Indexes for the session-history and auth-log searches (issue 23): radacct's acctsessionid and
callingstationid, radpostauth's callingstationid (username and authdate have theirs already).

On PostgreSQL each is built CONCURRENTLY: radacct and radpostauth hold millions of rows at an ISP
and FreeRADIUS writes them all the time; a plain CREATE INDEX would hold its writes (accounting,
the auth log) for the minutes the build takes. SQLite builds them as usual.
"""
from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class AddIndexConcurrentlyOnPostgres(AddIndexConcurrently):
    """CONCURRENTLY where the database has it, a plain CREATE INDEX elsewhere."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        return migrations.AddIndex.database_forwards(self, app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        return migrations.AddIndex.database_backwards(self, app_label, schema_editor, from_state, to_state)


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run inside a transaction

    dependencies = [
        ("radius", "0007_databoost"),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgres(
            model_name="radacct",
            index=models.Index(fields=["acct_session_id"], name="radacct_sessionid_idx"),
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name="radacct",
            index=models.Index(fields=["calling_station_id"], name="radacct_callingstation_idx"),
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name="radpostauth",
            index=models.Index(fields=["calling_station_id"], name="radpostauth_callingstation_idx"),
        ),
    ]
