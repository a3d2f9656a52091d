"""Forms for signing in, for managing staff accounts and roles, and the staff list's filter."""
from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.models import Group, Permission
from django.utils.text import slugify

from lib.listing import ListFilter

from .models import User
from .permission_labels import by_area, offered
from .roles import description_of, role_groups


class LoginForm(forms.Form):
    username = forms.CharField(
        max_length=150, widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}))
    password = forms.CharField(strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))


class RoleChoiceField(forms.ModelMultipleChoiceField):
    widget = forms.CheckboxSelectMultiple

    def label_from_instance(self, group):
        description = description_of(group)
        return f"{group.name} — {description}" if description else group.name


class StaffForm(forms.Form):
    username = forms.RegexField(
        regex=r"^[\w.@+-]+\Z", max_length=150,
        help_text="Letters, digits and @ . + - _ only.",
        error_messages={"invalid": "Use letters, digits and @ . + - _ only."},
    )
    first_name = forms.CharField(max_length=150, required=False)
    last_name = forms.CharField(max_length=150, required=False)
    email = forms.EmailField(required=False)
    roles = RoleChoiceField(queryset=None, required=False,
                            help_text="Several if need be: they may do what any of them allows. "
                                      "Custom roles are made under Staff → Roles.")
    password1 = forms.CharField(label="Password", strip=False, required=False,
                                widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    password2 = forms.CharField(label="Password again", strip=False, required=False,
                                widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))

    def __init__(self, *args, instance: User | None = None, **kwargs):
        self.instance = instance
        if instance is not None:
            kwargs.setdefault("initial", {
                "username": instance.username, "first_name": instance.first_name,
                "last_name": instance.last_name, "email": instance.email,
                "roles": list(instance.groups.all()),
            })
        super().__init__(*args, **kwargs)
        self.fields["roles"].queryset = role_groups()
        if instance is None:
            self.fields["password1"].required = True
            self.fields["password2"].required = True
        else:
            self.fields["username"].disabled = True
            self.fields["password1"].help_text = "Leave empty to keep the current password."

    def clean_username(self):
        username = self.cleaned_data["username"]
        if self.instance is None and User.objects.filter(username__iexact=username).exists():
            raise forms.ValidationError("A staff member with this username already exists.")
        return username

    def clean(self):
        data = super().clean()
        p1, p2 = data.get("password1"), data.get("password2")
        if p1 or p2:
            if p1 != p2:
                self.add_error("password2", "The two passwords differ.")
            else:
                probe = self.instance or User(username=data.get("username", ""),
                                              first_name=data.get("first_name", ""),
                                              last_name=data.get("last_name", ""),
                                              email=data.get("email", ""))
                try:
                    password_validation.validate_password(p1, user=probe)
                except forms.ValidationError as error:
                    self.add_error("password1", error)
        return data


class StaffFilter(ListFilter):
    """The staff list's tabs: ?show=active (the default), inactive or all."""
    show = forms.ChoiceField(choices=[("active", "Active"), ("inactive", "Deactivated"), ("all", "All")],
                             required=False)

    def apply(self, staff):
        show = self.value("show", "active")
        return staff if show == "all" else staff.filter(is_active=show == "active")


def offered_permissions():
    return offered(Permission.objects.select_related("content_type"))


class RoleForm(forms.Form):
    """A custom role: its name, what it is for, and its permissions, picked one by one or a whole
    area at a time (the area's box works without JavaScript: the server adds all of that area)."""

    name = forms.CharField(max_length=150)
    description = forms.CharField(max_length=200, required=False,
                                  help_text="What the role is for, shown beside it when staff are given roles.")
    permissions = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple)
    areas = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, role: Group | None = None, **kwargs):
        self.role = role
        if role is not None:
            kwargs.setdefault("initial", {
                "name": role.name, "description": description_of(role),
                "permissions": [f"{p.content_type.app_label}.{p.codename}"
                                for p in role.permissions.select_related("content_type")],
            })
        super().__init__(*args, **kwargs)
        self.areas_offered = by_area(offered_permissions())
        self.fields["permissions"].choices = [(item.name, item.label) for _, items in self.areas_offered
                                              for item in items]
        self.fields["areas"].choices = [(area, area) for area, _ in self.areas_offered]

    def chosen(self) -> list[str]:
        """The permissions picked, each whole area's included."""
        names = set(self.cleaned_data["permissions"])
        for area, items in self.areas_offered:
            if area in self.cleaned_data["areas"]:
                names.update(item.name for item in items)
        return sorted(names)

    def picker(self) -> list[dict]:
        """The permission checkboxes by area, each ticked as the form's data (or the role) says."""
        if self.is_bound:
            ticked = set(self.data.getlist("permissions"))
            whole = set(self.data.getlist("areas"))
        else:
            ticked, whole = set(self.initial.get("permissions", ())), set()
        picked = []
        for area, items in self.areas_offered:
            rows = [{"name": item.name, "label": item.label, "checked": item.name in ticked or area in whole}
                    for item in items]
            # "All" is an action (add the whole area), never pre-ticked from what the role holds:
            # unticking one permission below must not be undone by it when JavaScript is off.
            picked.append({"area": area, "slug": slugify(area), "rows": rows, "all": area in whole,
                           "count": sum(row["checked"] for row in rows)})
        return picked
