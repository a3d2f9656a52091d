"""API /api/settings: the sections, a section's values with where each comes from, and changing some
of them through the same form the Settings page uses (so the page and the API refuse the same input)."""
from typing import Any

from django import forms
from ninja import Body, Router, Schema
from ninja.errors import HttpError, ValidationError

from accounts.access import api_access
from siteconfig import store
from siteconfig.sections import SECTIONS, NetworksField, Section

from ..settings_access import READ, WRITE, may_read, readable_sections, summary

settings_router = Router(tags=["settings"])


class SectionSummary(Schema):
    section: str
    title: str
    description: str
    money: bool
    saved: int
    environment: int
    default: int


class SectionOut(Schema):
    section: str
    title: str
    settings: dict[str, dict[str, Any]]


def _readable(request, name: str) -> Section:
    declared = SECTIONS.get(name)
    if declared is None:
        raise HttpError(404, f"No settings section {name!r}")
    if not may_read(request.user, declared):
        raise HttpError(403, "Your role does not allow this section")
    return declared


def _body(declared: Section) -> dict:
    values = store.section(declared.name)
    settings = {}
    for item in declared.settings:
        key = f"{declared.name}.{item.name}"
        source = store.source(key)
        shown = {"source": source.kind, "changed_at": source.changed_at, "changed_by": source.changed_by or None}
        if item.secret:
            settings[item.name] = {"set": store.is_set(key), **shown}
        else:
            settings[item.name] = {"value": getattr(values, item.name), **shown}
    return {"section": declared.name, "title": declared.title, "settings": settings}


@settings_router.get("", auth=api_access(READ), response=list[SectionSummary], summary="Settings sections")
def list_settings_sections(request):
    return [{"section": s.name, "title": s.title, "description": s.description, "money": s.money, **summary(s)}
            for s in readable_sections(request.user)]


@settings_router.get("/{section}", auth=api_access(READ), response=SectionOut,
                     summary="A section's settings (secrets only as set or not)")
def get_settings_section(request, section: str):
    return _body(_readable(request, section))


@settings_router.put("/{section}", auth=api_access(WRITE), response=SectionOut,
                     summary="Change some or all of a section's settings")
def update_settings_section(request, section: str, changes: Body[dict[str, Any]]):
    """Fields left out keep their values (a boolean too); a secret sent blank keeps the saved one."""
    declared = _readable(request, section)
    fields = store.form_class(declared).base_fields
    sent, errors = {}, []
    for name, value in changes.items():
        if name not in fields:
            errors.append(_error(name, "Not a setting of this section that the API can change."))
            continue
        try:
            sent[name] = _as_submitted(fields[name], value)
        except TypeError as wrong:
            errors.append(_error(name, str(wrong)))
    form = store.form(declared.name, data=_form_data(declared, sent))
    form.is_valid()
    # A field not sent is not being changed: its current value's faults are not this request's.
    errors += [_error(name, message) for name, messages in form.errors.items() if name in sent for message in messages]
    if errors:
        raise ValidationError(errors)
    store.save(declared.name, {name: form.cleaned_data[name] for name in sent})
    return _body(declared)


def _as_submitted(field, value):
    """A JSON value as the form would receive it from the page, or TypeError for the wrong kind."""
    if isinstance(field, forms.BooleanField):
        if not isinstance(value, bool):
            raise TypeError("Send true or false.")
        return value
    if isinstance(field, NetworksField) and isinstance(value, list):
        if not all(isinstance(v, str) for v in value):
            raise TypeError("Send networks as strings, e.g. [\"196.201.214.0/24\"].")
        return value
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise TypeError("Send a string or a number.")


def _form_data(declared: Section, sent: dict) -> dict:
    current = store.section(declared.name)
    data = {}
    for item in declared.settings:
        if not item.in_form:
            continue
        if item.name in sent:
            data[item.name] = sent[item.name]
        elif not item.secret:  # a secret left out stays blank: blank keeps the saved one
            data[item.name] = getattr(current, item.name)
    return data


def _error(name: str, message: str) -> dict:
    return {"loc": ["body", "changes", name], "msg": str(message), "type": "value_error"}
