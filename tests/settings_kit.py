"""Posting a settings page as a person would: the form as shown, with some fields typed over."""
from django.urls import reverse

from siteconfig import store


def page_data(section: str, **changes) -> dict:
    """What the section's page posts when its form is submitted as shown, with ``changes`` typed in."""
    form = store.form(section)
    data = {}
    for bound in form:
        value = form.initial.get(bound.name, "")
        if bound.widget_type == "checkbox":
            if value:
                data[bound.name] = "on"
        else:
            data[bound.name] = "\n".join(value) if isinstance(value, list) else value
    for name, value in changes.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value
    return data


def save_page(client, section: str, **changes):
    return client.post(reverse("settings-section", args=[section]), page_data(section, **changes))
