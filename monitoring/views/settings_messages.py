"""The "Send test SMS" and "Send test e-mail" buttons of the SMS and E-mail settings pages (Admin):
each sends one message through what is saved and tells how it went on the page it came from."""
from django import forms
from django.contrib import messages
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from accounts.access import access, perm
from billing import notifications
from hotspot.phone import InvalidPhone, normalise_phone
from siteconfig import mail

CHANGE = perm("siteconfig.change_value")


class TestSmsForm(forms.Form):
    phone = forms.CharField(label="Phone number", max_length=20)

    def clean_phone(self):
        try:
            return normalise_phone(self.cleaned_data["phone"])
        except InvalidPhone as error:
            raise forms.ValidationError(str(error)) from None


class TestEmailForm(forms.Form):
    to = forms.EmailField(label="Send to")


def _refused(request, form) -> None:
    for errors in form.errors.values():
        messages.error(request, " ".join(errors))


@access(CHANGE)
@require_POST
def sms_test(request):
    form = TestSmsForm(request.POST)
    if not form.is_valid():
        _refused(request, form)
    else:
        note = notifications.send_test(form.cleaned_data["phone"])
        if note.status == note.Status.SENT:
            messages.success(request, f"Test SMS sent to {note.to} through {note.backend}.")
        else:
            messages.error(request, f"Test SMS to {note.to} not sent: {note.error}")
    return redirect("settings-section", section="sms")


@access(CHANGE)
@require_POST
def email_test(request):
    form = TestEmailForm(request.POST)
    if not form.is_valid():
        _refused(request, form)
    else:
        try:
            messages.success(request, mail.send_test(form.cleaned_data["to"]))
        except mail.MailError as error:
            messages.error(request, f"Test e-mail not sent: {error}")
    return redirect("settings-section", section="email")
