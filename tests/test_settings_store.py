"""The settings store: the environment is the default, a saved value wins, secrets are encrypted and
never audited in clear, and a save reaches another process within seconds of its commit."""
import subprocess
import sys
import time

import pytest
from django.db import connection, transaction

from audit.models import Entry
from siteconfig import store
from siteconfig.models import Value


@pytest.mark.django_db
def test_environment_is_the_default_and_a_saved_value_wins(settings):
    settings.MPESA_SHORTCODE = "600111"
    assert store.get("mpesa.shortcode") == "600111"
    assert store.source("mpesa.shortcode").kind in {"environment", "default"}

    store.save("mpesa", {"shortcode": "600222"})
    assert store.get("mpesa.shortcode") == "600222"
    assert store.section("mpesa").shortcode == "600222"
    assert store.source("mpesa.shortcode").kind == "saved"

    assert store.reset("mpesa.shortcode")
    assert store.get("mpesa.shortcode") == "600111"


@pytest.mark.django_db
def test_an_unchanged_value_is_not_saved_so_the_environment_stays_its_source(settings):
    settings.MPESA_SHORTCODE = "600111"
    assert store.save("mpesa", {"shortcode": "600111"}) == {}
    assert not Value.objects.exists()


@pytest.mark.django_db
def test_a_secret_is_encrypted_at_rest_kept_when_left_blank_and_never_audited_in_clear():
    store.save("mpesa", {"consumer_secret": "s3cr3t-value-xyz", "shortcode": "600333"})
    assert store.get("mpesa.consumer_secret") == "s3cr3t-value-xyz"
    with connection.cursor() as cursor:
        cursor.execute("SELECT value::text, secret FROM siteconfig_value WHERE key = 'mpesa.consumer_secret'")
        value, secret = cursor.fetchone()
        assert value is None and "s3cr3t" not in secret and secret
        cursor.execute("SELECT changes::text FROM audit_entry")
        audited = " ".join(row[0] for row in cursor.fetchall())
    assert "s3cr3t" not in audited and "600333" in audited

    store.save("mpesa", {"consumer_secret": ""})  # blank: keep
    assert store.get("mpesa.consumer_secret") == "s3cr3t-value-xyz"
    entry = Entry.objects.get()
    assert entry.object_type == "siteconfig.value" and entry.object_id == "mpesa"
    assert entry.changes["consumer_secret"] == ["(secret)", "(changed)"]


@pytest.mark.django_db
def test_undeclared_names_are_refused():
    with pytest.raises(KeyError):
        store.get("mpesa.nonsense")
    with pytest.raises(KeyError):
        store.save("mpesa", {"nonsense": 1})


@pytest.mark.django_db
def test_the_form_validates_and_never_renders_a_secret():
    store.save("mpesa", {"passkey": "pk-very-secret"})
    page = store.form("mpesa").as_div()
    assert "pk-very-secret" not in page
    bad = store.form("mpesa", data={"shortcode": "12", "environment": "moon", "transaction_type": "x",
                                    "consumer_key": "", "callback_base_url": "javascript:alert(1)",
                                    "callback_allowed_networks": "10.0.0.0/8\nnot-a-net"})
    assert not bad.is_valid()
    assert {"shortcode", "environment", "transaction_type", "consumer_key", "callback_base_url",
            "callback_allowed_networks"} <= set(bad.errors)


@pytest.mark.django_db
def test_a_rolled_back_save_leaves_nothing_behind():
    with pytest.raises(RuntimeError), transaction.atomic():
        store.save("general", {"business_name": "Rolled Back Ltd"})
        assert store.get("general.business_name") == "Rolled Back Ltd"
        raise RuntimeError
    assert store.get("general.business_name") != "Rolled Back Ltd"


@pytest.mark.django_db
def test_a_save_in_a_savepoint_rolled_back_is_not_read_by_the_transaction_around_it(django_assert_num_queries):
    store.save("general", {"business_name": "Kept Ltd"})
    with django_assert_num_queries(1):  # a section read after a save: one load, not one per setting
        assert store.section("general").business_name == "Kept Ltd"
    with pytest.raises(RuntimeError), transaction.atomic():
        store.save("general", {"business_name": "Savepoint Ltd"})
        assert store.get("general.business_name") == "Savepoint Ltd"
        raise RuntimeError
    assert store.get("general.business_name") == "Kept Ltd"


READER = """
import os, sys, time, django
os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
django.setup()
from django.db import connection
from siteconfig import store
print(store.get("general.business_name"), flush=True)
connection.close()
sys.stdin.readline()
deadline = time.monotonic() + 10
while time.monotonic() < deadline:
    name = store.get("general.business_name")
    connection.close()
    if name == "Changed Elsewhere":
        break
    time.sleep(0.2)
print(name, flush=True)
"""


@pytest.mark.django_db(transaction=True)
def test_a_save_reaches_another_process_within_seconds(settings):
    env = {**__import__("os").environ, "DATABASE_URL": _url(settings)}
    reader = subprocess.Popen([sys.executable, "-c", READER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True, env=env)
    try:
        first = reader.stdout.readline().strip()
        assert first == settings.BUSINESS_NAME
        store.save("general", {"business_name": "Changed Elsewhere"})
        started = time.monotonic()
        reader.stdin.write("\n")
        reader.stdin.flush()
        name = reader.stdout.readline().strip()
        took = time.monotonic() - started
    finally:
        reader.kill()
    assert name == "Changed Elsewhere"
    assert took < settings.SITECONFIG_CHECK_SECONDS + 3


def _url(settings) -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}:{db.get('PASSWORD', '')}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
