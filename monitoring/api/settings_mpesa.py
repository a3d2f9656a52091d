"""POST /api/settings/mpesa/test: ask Daraja for a token with the saved M-Pesa keys ("Test credentials")."""
from ninja import Field, Router, Schema
from ninja.responses import Status

from accounts.access import api_access, perm
from billing import daraja

settings_mpesa_router = Router(tags=["settings"])


class CredentialsOut(Schema):
    ok: bool
    environment: str = Field(..., description="simulator, sandbox or production: where the keys were tried")
    detail: str = Field(..., description="what Daraja answered, in its own words when it refused the keys")
    error: str = Field("", description="on failure, the same as detail")
    code: str = Field("", description="Daraja's errorCode when it refused, e.g. 400.008.01")
    reason: str = Field("", description="on failure: refused (Daraja answered no), timeout or unreachable")


@settings_mpesa_router.post("/mpesa/test", response={200: CredentialsOut, 502: CredentialsOut},
                            auth=api_access(perm("siteconfig.change_value")))
def test_mpesa_credentials(request):
    """200 {"ok": true} when Daraja issued a token for the saved keys; 502 {"ok": false, "error"} when it
    refused them, did not answer in MPESA_TIMEOUT_SECONDS or could not be reached. Nothing is changed
    or audited."""
    found = daraja.check_credentials()
    answer = {"ok": found.ok, "environment": found.environment, "detail": found.message,
              "error": "" if found.ok else found.message, "code": found.code, "reason": found.reason}
    return Status(200 if found.ok else 502, answer)
