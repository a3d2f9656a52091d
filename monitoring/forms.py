"""Forms for the monitoring pages: the filters of the activity list (the audit trail, /activity/), the
system log (/logs/system/) and the failed jobs (/health/jobs/).

Filter forms are lib.listing.ListFilter (billing's FilterForm for the From/To days): bound to
request.GET, they never refuse a page.
"""
import logging

from django import forms
from django.apps import apps
from django.db.models import Q

from audit.models import Entry
from billing.forms import FilterForm

from .models import TaskFailure

# The apps whose objects the services write entries about (their models are the object types).
AUDITED_APPS = ("accounts", "radius", "routers", "hotspot", "billing", "monitoring")


def known_types(user) -> list[tuple[str, str]]:
    """(object_type, label) of the models ``user`` may read entries about, as trail.visible_to decides."""
    every = user.has_perm("audit.view_all_entries")
    found = [(m._meta.label_lower, f"{str(m._meta.verbose_name).capitalize()} ({m._meta.app_label})")
             for m in apps.get_models() if m._meta.app_label in AUDITED_APPS
             and (every or user.has_perm(f"{m._meta.app_label}.view_{m._meta.model_name}"))]
    return sorted(found, key=lambda choice: choice[1])


def actor_match(actor: str) -> Q:
    """An actor as a person names them: their name (a staff member's username) or their id."""
    return Q(actor_name=actor) | Q(actor_id=actor)


def text_match(q: str) -> Q:
    """The search box: what an entry is about (its object's label) or who did it (the actor's name)."""
    return Q(object_label__icontains=q) | Q(actor_name__icontains=q)


def action_named(action: str) -> str:
    """"Signed in" and "signed_in" are the same action."""
    return action.strip().lower().replace(" ", "_")


class ActivityFilterForm(FilterForm):
    """Each filter but the text is an exact match that an index of audit_entry serves (actor kind and
    id, object type and id, action, and the newest-first order); the text is a contains-search over
    the object's label and the actor's name, a scan of what the other filters leave: narrow by date
    on a long trail."""

    date_range = True
    q = forms.CharField(label="Search", required=False, max_length=100, widget=forms.TextInput(
        attrs={"type": "search", "placeholder": "What it was about, or who"}))
    actor = forms.CharField(label="Actor", required=False, max_length=150,
                            widget=forms.TextInput(attrs={"placeholder": "Username or id"}))
    actor_kind = forms.ChoiceField(label="Actor kind", required=False,
                                   choices=[("", "Anyone"), *Entry.ActorKind.choices])
    object_type = forms.ChoiceField(label="Object", required=False, choices=[("", "Anything")])
    object_id = forms.CharField(label="Object id", required=False, max_length=64)
    action = forms.CharField(label="Action", required=False, max_length=40,
                             widget=forms.TextInput(attrs={"placeholder": "e.g. changed"}))

    def __init__(self, data=None, *, user, **kwargs):
        super().__init__(data, **kwargs)
        self.fields["object_type"].choices = [("", "Anything"), *known_types(user)]
        self.full_clean()  # the choices are the user's: clean again with them

    def apply(self, entries):
        for name in ("actor_kind", "object_type"):
            if self.value(name):
                entries = entries.filter(**{name: self.value(name)})
        if self.value("object_id", "").strip():
            entries = entries.filter(object_id=self.value("object_id").strip())
        if self.value("action", "").strip():
            entries = entries.filter(action=action_named(self.value("action")))
        if self.value("actor", "").strip():
            entries = entries.filter(actor_match(self.value("actor").strip()))
        q = self.value("q", "").strip()
        if q:
            entries = entries.filter(text_match(q))
        return self.within(entries, "at")


LEVELS = [("", "Warnings and worse"), (str(logging.INFO), "Everything kept (jobs' summaries too)"),
          (str(logging.ERROR), "Errors and worse"), (str(logging.CRITICAL), "Critical only")]


def least_level(value: str | int | None) -> int:
    return int(value) if value else logging.WARNING


def logger_match(rows, logger: str):
    """``billing`` is billing and everything under it (billing.callbacks …), not "billingx"."""
    logger = logger.strip()
    return rows.filter(logger=logger) | rows.filter(logger__startswith=f"{logger}.") if logger else rows


class SystemLogFilter(FilterForm):
    date_range = True
    q = forms.CharField(label="Search", required=False, max_length=100, widget=forms.TextInput(
        attrs={"type": "search", "placeholder": "Words in the message"}))
    level = forms.ChoiceField(label="Level", required=False, choices=LEVELS)
    logger = forms.CharField(label="Logger", required=False, max_length=200,
                             widget=forms.TextInput(attrs={"placeholder": "e.g. billing"}))

    def apply(self, records):
        records = records.filter(level__gte=least_level(self.value("level")))
        records = logger_match(records, self.value("logger", ""))
        if q := self.value("q", "").strip():
            records = records.filter(message__icontains=q)
        return self.within(records, "at")


class FailedJobFilter(FilterForm):
    task = forms.CharField(label="Task", required=False, max_length=200,
                           widget=forms.TextInput(attrs={"placeholder": "e.g. billing.tasks"}))
    state = forms.ChoiceField(label="State", required=False, choices=[("", "Any state"), *TaskFailure.State.choices])

    def apply(self, failures):
        if task := self.value("task", "").strip():
            failures = failures.filter(task_name__icontains=task)
        if self.value("state"):
            failures = failures.filter(state=self.value("state"))
        return failures
