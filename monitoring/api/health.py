"""API: health of the product's parts (/api/health...)."""
from django.http import JsonResponse
from ninja import Router

from accounts.access import PUBLIC, api_access, perm

from .. import health

router = Router(tags=["health"])


@router.get("/ping", auth=api_access(PUBLIC), summary="Liveness")
def ping(request):
    """Liveness: answers without touching the database or anything else."""
    return {"status": "ok"}


PUBLIC_FIELDS = ("name", "status", "latency_ms", "critical")


def _shown(part: health.Component, request) -> dict:
    """Load balancers see status and latency; staff also see details (error text, versions)."""
    data = part.as_dict()
    if getattr(request.user, "is_authenticated", False) and request.user.is_active:
        return data
    return {key: data[key] for key in PUBLIC_FIELDS}


@router.get("", auth=api_access(PUBLIC), summary="Every part's status and latency")
def health_summary(request):
    """Every part with its status and latency; 503 when a critical part is down. Signed-in staff
    (session or bearer token) also get each part's detail."""
    _identify(request)
    parts = health.components()
    status = health.overall(parts)
    return JsonResponse({"status": status, "components": [_shown(p, request) for p in parts]},
                        status=200 if status == "ok" else 503)


@router.get("/database", auth=api_access(PUBLIC), summary="Database status (staff: version, pending migrations)")
def health_database(request):
    _identify(request)
    part = health.database()
    return JsonResponse(_shown(part, request), status=200 if part.status == "ok" else 503)


def _identify(request) -> None:
    """A public endpoint still recognises a bearer token, to show staff the details."""
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        from accounts.services import user_for_token

        user = user_for_token(header[7:].strip())
        if user is not None:
            request.user = user


@router.get("/security", auth=api_access(perm("accounts.view_security_report")), summary="Security report (Admin)")
def health_security(request):
    """For Admins: production hardening, each check passed or failed with the reason."""
    findings = health.security_report()
    return {
        "passed": all(f.passed for f in findings),
        "checks": [{"name": f.name, "passed": f.passed, "reason": f.reason} for f in findings],
    }
