"""The Settings pages (/settings/…): the sections, a section's form with where each value comes from,
and putting one saved setting back to its default. The values themselves live in siteconfig.store."""
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts.access import access
from audit.models import Entry
from siteconfig import store
from siteconfig.sections import SECTIONS, Section

from ..settings_access import CHANGE, READ, WRITE, may_read, readable_sections, summary


def readable_section(user, name: str) -> Section:
    """The section named in the URL: 404 when there is none, 403 when the role may not read it."""
    declared = SECTIONS.get(name)
    if declared is None:
        raise Http404("No such settings section")
    if not may_read(user, declared):
        raise PermissionDenied("Your role does not allow this section")
    return declared


@access(READ)
@require_safe
def settings_index(request):
    sections = [{"section": s, "counts": summary(s)} for s in readable_sections(request.user)]
    return render(request, "monitoring/settings/index.html", {
        "sections": sections, "can_change": request.user.has_perm(CHANGE)})


@access(READ)
@require_http_methods(["GET", "HEAD", "POST"])
def settings_section(request, section: str):
    declared = readable_section(request.user, section)
    can_change = request.user.has_perm(CHANGE)
    if request.method == "POST":
        if not can_change:
            raise PermissionDenied("Your role may read these settings, not change them")
        form = store.form(declared.name, request.POST, request.FILES)
        if form.is_valid():
            changed = store.save(declared.name, form.cleaned_data)
            messages.success(request, _saved_message(declared, changed))
            return redirect("settings-section", declared.name)
    else:
        form = store.form(declared.name)
    if not can_change:
        for field in form.fields.values():
            field.disabled = True
    return render(request, "monitoring/settings/section.html", {
        "section": declared, "form": form, "rows": _rows(declared, form, can_change), "can_change": can_change,
        "actions": _actions_template(declared), "audit_entries": _history(declared),
    })


@access(WRITE)
@require_POST
def settings_reset(request, section: str, name: str):
    declared = readable_section(request.user, section)
    item = declared.by_name.get(name)
    if item is None:
        raise Http404("No such setting")
    key = f"{declared.name}.{name}"
    if store.reset(key):
        messages.success(request, f"{_label(item)} is back to its default ({store.source(key).label}).")
    else:
        messages.info(request, f"{_label(item)} was not saved: it already had its default.")
    return redirect("settings-section", declared.name)


def _rows(declared: Section, form, can_change: bool) -> list[dict]:
    rows = []
    for bound in form:
        item = declared.by_name[bound.name]
        source = store.source(f"{declared.name}.{item.name}")
        rows.append({
            "field": bound, "secret": item.secret, "source": source, "label": _source_label(item, source, declared),
            "checkbox": bound.widget_type == "checkbox",
            # A reader who may not change a secret has nothing to see in its (always empty) box.
            "input": bound.widget_type != "checkbox" and (can_change or not item.secret),
            "resettable": can_change and source.kind == "saved",
        })
    return rows


def _source_label(item, source: store.Source, declared: Section) -> str:
    if not item.secret:
        return source.label
    # A secret is never shown: only whether it has a value, and since when when it was saved here.
    if not store.is_set(f"{declared.name}.{item.name}"):
        return "not set"
    if source.kind == "saved":
        return f"set — last changed {source.label.removeprefix('saved ')}"
    return f"set — {source.label}"


def _actions_template(declared: Section) -> str | None:
    """The section's own actions (Test credentials, Send test SMS, the logo), where a page has them."""
    name = f"monitoring/settings/{declared.name}_actions.html"
    try:
        get_template(name)
    except TemplateDoesNotExist:
        return None
    return name


def _history(declared: Section, limit: int = 10) -> list[Entry]:
    return list(Entry.objects.filter(object_type="siteconfig.value", object_id=declared.name)[:limit])


def _label(item) -> str:
    return str(item.field.label or item.name.replace("_", " ").capitalize())


def _saved_message(declared: Section, changed: dict) -> str:
    if not changed:
        return f"Nothing changed in the {declared.title} settings."
    labels = ", ".join(_label(declared.by_name[name]) for name in changed)
    return f"{declared.title} settings saved: {labels}."
