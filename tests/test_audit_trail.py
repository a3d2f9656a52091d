"""The audit trail's own rules: who the actor is, append-only entries, secrets never stored, and who
may read which entries."""
import pytest
from django.db import DatabaseError, connection, transaction

from accounts.roles import FINANCE, TECHNICIAN
from audit import trail
from audit.actors import Actor, acting_as
from audit.models import AppendOnly, Entry
from hotspot.models import Package

pytestmark = pytest.mark.django_db


def test_without_anyone_acting_the_system_is_the_actor():
    entry = trail.record("rotated", object_type="system.logs", label="logs")
    assert (entry.actor_kind, entry.actor_name, entry.ip) == ("system", "system", None)


def test_acting_as_names_the_actor_and_its_address():
    with acting_as(Actor.mpesa("196.201.214.200")):
        entry = trail.record("credited", object_type="billing.payment", object_id=7, label="KES 50")
    assert (entry.actor_kind, entry.actor_name, entry.ip) == ("mpesa", "M-Pesa", "196.201.214.200")
    assert entry.object_id == "7"
    assert trail.record("x", object_type="t").actor_kind == "system"  # the context ended with the block


def test_changes_keep_before_and_after_and_only_say_a_secret_changed():
    found = trail.changes({"price": "50.00", "api_password": "old", "name": "A"},
                          {"price": "60.00", "api_password": "new", "name": "A"}, secrets={"api_password"})
    assert found == {"price": ["50.00", "60.00"], "api_password": ["(secret)", "(changed)"]}
    entry = trail.record("changed", object_type="routers.router", object_id=1, changes=found)
    assert "old" not in str(Entry.objects.get(pk=entry.pk).changes) and "new" not in str(entry.changes)


def test_entries_are_append_only_in_the_model_and_in_postgresql():
    entry = trail.record("created", object_type="t", label="x")
    entry.action = "forged"
    with pytest.raises(AppendOnly):
        entry.save()
    with pytest.raises(AppendOnly):
        entry.delete()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("UPDATE audit_entry SET action = 'forged' WHERE id = %s", [entry.pk])
    assert Entry.objects.get(pk=entry.pk).action == "created"
    Entry.objects.filter(pk=entry.pk).delete()  # retention deletes by age, in bulk
    assert not Entry.objects.exists()


def test_each_role_reads_the_entries_about_what_it_may_view(personas):
    package = Package.objects.create(name="Daily", price=50, validity_minutes=1440)
    trail.record("changed", package)
    trail.record("changed", object_type="routers.router", object_id=1, label="Kilimani")
    trail.record("credited", object_type="billing.payment", object_id=1, label="KES 50")
    seen = {role: set(trail.visible_to(user).values_list("object_type", flat=True)) for role, user in personas.items()}
    assert seen[FINANCE] == {"hotspot.package", "billing.payment"}
    assert seen[TECHNICIAN] == {"routers.router"}
    assert len(seen["Admin"]) == 3
