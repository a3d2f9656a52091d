"""Forms for signing in, for managing staff accounts, and the staff list's filter."""
from django import forms
from django.contrib.auth import password_validation

from lib.listing import ListFilter

from .models import User
from .roles import ROLE_DESCRIPTIONS, role_groups


class LoginForm(forms.Form):
    username = forms.CharField(
        max_length=150, widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}))
    password = forms.CharField(strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))


class RoleChoiceField(forms.ModelMultipleChoiceField):
    widget = forms.CheckboxSelectMultiple

    def label_from_instance(self, group):
        return f"{group.name} — {ROLE_DESCRIPTIONS.get(group.name, '')}"


class StaffForm(forms.Form):
    username = forms.RegexField(
        regex=r"^[\w.@+-]+\Z", max_length=150,
        help_text="Letters, digits and @ . + - _ only.",
        error_messages={"invalid": "Use letters, digits and @ . + - _ only."},
    )
    first_name = forms.CharField(max_length=150, required=False)
    last_name = forms.CharField(max_length=150, required=False)
    email = forms.EmailField(required=False)
    roles = RoleChoiceField(queryset=None, required=False)
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
