"""Reading and saving settings: the saved value, else the environment's, else the built-in default.

Every process (web, worker, beat) keeps the saved values in memory and asks the shared cache for
their version at most every SITECONFIG_CHECK_SECONDS; a save bumps the version when its transaction
commits, so a change reaches every process within seconds, and reading a setting costs nothing
between checks. While Redis is down each process re-reads the table at that interval instead.

    from siteconfig import store
    store.get("mpesa.shortcode")            # one setting
    store.section("mpesa").consumer_key     # a section's settings as attributes
"""
import os
import secrets as token_source
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace

from django import forms
from django.conf import settings
from django.db import transaction
from django.dispatch import Signal
from django.utils import timezone

from audit import trail
from audit.actors import current
from lib.shared_cache import cache as shared

from .models import Value
from .sections import SECTIONS, Section, Setting, setting

VERSION_KEY = "siteconfig:version"
# Sent after a save commits, in the saving process (e.g. the Daraja adapter drops its cached token);
# other processes notice through the version within seconds.
saved = Signal()  # sender: the Section; kwargs: names (the settings that changed)


@dataclass(frozen=True)
class Saved:
    value: object
    secret: str
    changed_at: datetime
    changed_by: str


class _Memory:
    def __init__(self):
        self.lock = threading.Lock()
        self.saved: dict[str, Saved] | None = None
        self.version: str | None = None
        self.checked = 0.0


_memory = _Memory()
# Set in the thread whose open transaction has saved settings: its reads see its own writes and are
# not kept, so a rollback leaves nothing stale behind.
_writing = threading.local()


def _load() -> dict[str, Saved]:
    return {row.key: Saved(row.value, row.secret, row.changed_at, row.changed_by) for row in Value.objects.all()}


def _saved() -> dict[str, Saved]:
    if getattr(_writing, "active", False):
        connection = transaction.get_connection()
        if connection.in_atomic_block:
            # Loaded once per savepoint level, not once per setting read: a section read costs one
            # query, and a savepoint rolled back (its name gone from the list) is never read from.
            level = tuple(connection.savepoint_ids)
            if getattr(_writing, "level", None) != level or _writing.snapshot is None:
                _writing.snapshot, _writing.level = _load(), level
            return _writing.snapshot
        _writing.active = False  # the transaction ended without its on_commit: rolled back
        forget()
    memory = _memory
    now = time.monotonic()
    if memory.saved is not None and now - memory.checked < settings.SITECONFIG_CHECK_SECONDS:
        return memory.saved
    with memory.lock:
        if memory.saved is not None and now - memory.checked < settings.SITECONFIG_CHECK_SECONDS:
            return memory.saved
        first = memory.saved is None
        if not first:
            # This thread asks; the others keep reading the copy in memory meanwhile. The lock is
            # never held while Redis is asked: a hung Redis must cost one request its timeout, not
            # every request the process serves (tests/test_redis_outage.py).
            memory.checked = now
    version = shared.get(VERSION_KEY)
    if version is None and not shared.down:
        # First process since Redis started (or since the cache was cleared): name a version and
        # load; add() keeps another process's name if it got there first.
        shared.add(VERSION_KEY, token_source.token_hex(8), None)
        version = shared.get(VERSION_KEY)
    current = memory.saved
    if first or current is None or version != memory.version or shared.down:
        current = _load()
        with memory.lock:
            memory.saved, memory.version = current, version
    with memory.lock:
        memory.checked = now
    return current


def state() -> object:
    """An object that is the same for as long as no saved setting has changed (this process's copy
    of the table), for a caller that derives something from several settings and keeps it: when
    ``state()`` is another object, derive again. Values from the environment or the defaults do not
    change while the process runs."""
    return _saved()


def forget() -> None:
    """Drop this process's copy: the next read loads the table (tests; a changed setting)."""
    _writing.active, _writing.snapshot = False, None
    with _memory.lock:
        _memory.saved = None
        _memory.version = None
        _memory.checked = 0.0


def on_setting_changed(*, setting: str, **kwargs) -> None:
    forget()


def _value(key: str, item: Setting):
    found = _saved().get(key)
    if found is None:
        return item.fallback()
    return found.secret if item.secret else found.value


def get(key: str):
    """The setting's current value; KeyError for an undeclared key (a typo must not read as blank)."""
    _, item = setting(key)
    return _value(key, item)


def section(name: str) -> SimpleNamespace:
    declared = SECTIONS[name]
    return SimpleNamespace(**{item.name: _value(f"{name}.{item.name}", item) for item in declared.settings})


@dataclass(frozen=True)
class Source:
    kind: str  # "saved", "environment" or "default"
    changed_at: datetime | None = None
    changed_by: str = ""
    env: str = ""

    @property
    def label(self) -> str:
        if self.kind == "saved":
            when = timezone.localtime(self.changed_at).strftime("%-d %b %Y %H:%M")
            return f"saved {when}" + (f" by {self.changed_by}" if self.changed_by else "")
        if self.kind == "environment":
            return f"environment ({self.env})"
        return "built-in default"


def source(key: str) -> Source:
    """Where the current value comes from, for the page beside each field."""
    _, item = setting(key)
    found = _saved().get(key)
    if found is not None:
        return Source("saved", found.changed_at, found.changed_by)
    if item.env and item.env in os.environ:
        return Source("environment", env=item.env)
    return Source("default", env=item.env)


def is_set(key: str) -> bool:
    """For a secret: whether it has any value (saved or from the environment), without reading it out."""
    return bool(get(key))


def form_class(declared: Section) -> type[forms.Form]:
    fields = {item.name: item.field for item in declared.settings if item.in_form}
    return type(f"{declared.name.title()}SettingsForm", (forms.Form,), fields)


def form(name: str, data=None, files=None) -> forms.Form:
    """The section's form, filled with the current values (secrets stay blank: write-only)."""
    declared = SECTIONS[name]
    current_values = section(name)
    initial = {item.name: getattr(current_values, item.name) for item in declared.settings
               if item.in_form and not item.secret}
    return form_class(declared)(data=data, files=files, initial=initial)


def save(name: str, values: dict, *, note: str = "") -> dict:
    """Save ``values`` (already validated, e.g. a form's cleaned_data) for section ``name``: a
    secret left blank keeps what it had; a value equal to the current one is not re-saved (so the
    environment stays its source). Returns the audit trail's changes (secrets as "(changed)")."""
    declared = SECTIONS[name]
    unknown = set(values) - set(declared.by_name)
    if unknown:
        raise KeyError(f"not settings of {name}: {', '.join(sorted(unknown))}")
    before = section(name)
    who = current()
    changed = []
    with transaction.atomic():
        for field_name, new in values.items():
            item = declared.by_name[field_name]
            if item.secret and not new:
                continue
            if new == getattr(before, field_name):
                continue
            Value.objects.update_or_create(key=f"{name}.{field_name}", defaults={
                "value": None if item.secret else new, "secret": new if item.secret else "",
                "changed_at": timezone.now(), "changed_by": who.name[:150]})
            changed.append(field_name)
        if not changed:
            return {}
        # changes() writes a secret as "(changed)": its values are compared, never recorded.
        found = trail.changes({n: getattr(before, n) for n in changed}, {n: values[n] for n in changed},
                              secrets=declared.secrets)
        trail.record("changed", object_type="siteconfig.value", object_id=name, label=f"{declared.title} settings",
                     changes=found, note=note)
        _changed(declared, changed)
    return found


def reset(key: str, *, note: str = "") -> bool:
    """Forget the saved value: the environment's (or the built-in default) applies again."""
    declared, item = setting(key)
    with transaction.atomic():
        before = _value(key, item)
        deleted, _ = Value.objects.filter(key=key).delete()
        if not deleted:
            return False
        after = item.fallback()
        trail.record("reset", object_type="siteconfig.value", object_id=declared.name,
                     label=f"{declared.title} settings", note=note or f"{item.name} back to its default",
                     changes=trail.changes({item.name: before}, {item.name: after}, secrets=declared.secrets)
                     or {item.name: ["(saved)", "(default)"]})
        _changed(declared, [item.name])
    return True


def _changed(declared: Section, names: list[str]) -> None:
    forget()  # also this thread's snapshot: the next read sees the write
    _writing.active = True  # this thread reads its own writes at once, even before the commit

    def announce():
        forget()
        shared.set(VERSION_KEY, token_source.token_hex(8), None)
        saved.send(sender=declared, names=tuple(names))

    transaction.on_commit(announce)
