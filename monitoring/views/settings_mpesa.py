"""POST /settings/mpesa/test/: "Test credentials" on the M-Pesa settings page asks Daraja for a token
with the saved keys and says what Daraja answered (its own words when it refused them)."""
from django.contrib import messages
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from accounts.access import access, perm
from billing import daraja


@access(perm("siteconfig.change_value"))
@require_POST
def test_credentials(request):
    found = daraja.check_credentials()
    (messages.success if found.ok else messages.error)(request, found.message)
    return redirect("settings-section", "mpesa")
