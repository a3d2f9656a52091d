"""Writing and reading the audit trail.

Services write one entry per state change, inside the transaction that makes the change, so an
entry exists exactly when the change does::

    before = trail.snapshot(package, PACKAGE_FIELDS)
    ...save...
    trail.record("changed", package, changes=trail.changes(before, trail.snapshot(package, PACKAGE_FIELDS)))

The actor comes from ``audit.actors`` (the request's staff member, the job, or whoever
``acting_as`` names); a service passes ``actor=`` only when it knows better.
"""
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal

from django.db import models
from django.db.models import Q

from .actors import Actor, current
from .models import Entry

SECRET = ["(secret)", "(changed)"]
LABEL_LENGTH = Entry._meta.get_field("object_label").max_length


def _plain(value):
    """A value as JSON keeps it readable: money and times as text, choices as their value."""
    if isinstance(value, Decimal | date | datetime):
        return str(value)
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(value, list | tuple | set):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def snapshot(instance, fields) -> dict:
    """The named fields of ``instance`` as they are now (a foreign key by its label)."""
    return {name: _plain(getattr(instance, name)) for name in fields}


def changes(before: dict, after: dict, secrets=()) -> dict:
    """``{field: [before, after]}`` for what differs; a secret's values become "(changed)"."""
    found = {}
    for name in after:
        if before.get(name) != after[name]:
            found[name] = SECRET if name in secrets else [before.get(name), after[name]]
    return found


def record(action: str, obj=None, *, changes: dict | None = None, note: str = "", actor: Actor | None = None,
           object_type: str = "", object_id="", label: str = "") -> Entry:
    """Write one entry: ``action`` ("created", "changed", "deleted" or a domain verb) done to ``obj``
    (or to ``object_type``/``object_id``/``label`` when there is no instance, e.g. a failed sign-in)."""
    entry = _entry(actor or current(), action, obj, changes, note, object_type, object_id, label)
    entry.save()
    return entry


def record_many(rows, actor: Actor | None = None) -> list[Entry]:
    """A sweep's entries in one INSERT, all by the same actor: ``rows`` of dicts holding what
    ``record`` takes (``action``, then ``obj`` or ``object_type``/``object_id``/``label``, ``changes``,
    ``note``)."""
    who = actor or current()
    return Entry.objects.bulk_create([_entry(who, **row) for row in rows], batch_size=1000)


def _entry(who: Actor, action: str, obj=None, changes: dict | None = None, note: str = "", object_type: str = "",
           object_id="", label: str = "") -> Entry:
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or obj.pk
        label = label or str(obj)
    return Entry(actor_kind=who.kind, actor_id=who.id[:64], actor_name=who.name[:150], ip=who.ip,
                 action=action, object_type=object_type, object_id="" if object_id is None else str(object_id)[:64],
                 object_label=label[:LABEL_LENGTH], changes={k: _plain(v) for k, v in (changes or {}).items()},
                 note=note[:255])


def history(obj, limit: int = 20) -> list[Entry]:
    """The newest entries about ``obj``, for its page's history panel."""
    return list(Entry.objects.filter(object_type=obj._meta.label_lower, object_id=str(obj.pk))[:limit])


# Where viewing a kind of object does not mean viewing every one of them (Finance views the payment
# tickets, not the router ones): object type -> a function of the user giving the ids of the objects
# they may see, as a queryset of text (object_id's type), or None for all. The app owning the type
# registers it in its AppConfig.ready(), as audit imports no app.
OBJECT_RULES: dict[str, Callable] = {}


def visible_to(user, entries=None):
    """The entries ``user`` may read: those about objects of a kind they may view (Finance the money,
    Technicians the routers, Support the customers), narrowed by the kind's OBJECT_RULES to the
    objects they may see, in the same query; everything for whoever holds audit.view_all_entries."""
    entries = Entry.objects.all() if entries is None else entries
    if user.has_perm("audit.view_all_entries"):
        return entries
    from django.apps import apps  # the models' registry, not an import of any app

    types = [m._meta.label_lower for m in apps.get_models()
             if user.has_perm(f"{m._meta.app_label}.view_{m._meta.model_name}")]
    seen = Q(object_type__in=[t for t in types if t not in OBJECT_RULES])
    for object_type in (t for t in types if t in OBJECT_RULES):
        ids = OBJECT_RULES[object_type](user)
        seen |= Q(object_type=object_type) if ids is None else Q(object_type=object_type, object_id__in=ids)
    return entries.filter(seen)
