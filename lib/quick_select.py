"""A <select> written in Python: the same markup as Django's Select, without a template per option.

Django renders each <option> through the widget templates, ~0.1 ms apiece: a filter of 500 routers
cost a list or report page 40-100 ms (more on a slower CPU) before any data was read. The list
filters (lib.listing.ListFilter) and the report filters use this instead."""
from django import forms
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe


class QuickSelect(forms.Select):
    def render(self, name, value, attrs=None, renderer=None):
        chosen = {str(v) for v in self.format_value(value)}
        body = []
        for option, label in self.choices:
            if isinstance(label, (list, tuple)):  # a group: (group label, [(value, label), ...])
                body.append(format_html('<optgroup label="{}">{}</optgroup>', option, self._options(label, chosen)))
            else:
                body.append(self._options([(option, label)], chosen))
        return format_html("<select{}>{}</select>", flatatt({**self.build_attrs(self.attrs, attrs), "name": name}),
                           mark_safe("".join(body)))

    @staticmethod
    def _options(choices, chosen: set[str]) -> str:
        return format_html_join("", '<option value="{}"{}>{}</option>', (
            (str(option), mark_safe(" selected") if str(option) in chosen else "", label)
            for option, label in choices))


def quick_selects(form: forms.Form) -> None:
    """Give each plain Select of ``form`` (not a subclass with markup of its own) the quick one."""
    for field in form.fields.values():
        if type(field.widget) is forms.Select:
            quick = QuickSelect(attrs=field.widget.attrs)
            quick.choices = field.widget.choices
            quick.is_required = field.widget.is_required
            field.widget = quick
