"""API: health of the product's parts (/api/health...)."""
from django.http import JsonResponse
from ninja import Router

from accounts.access import PUBLIC, api_access, perm

from . import health

router = Router(tags=["health"])


@router.get("/ping", auth=api_access(PUBLIC), summary="Liveness")
def ping(request):
    """Liveness: answers without touching the database or anything else."""
    return {"status": "ok"}


@router.get("", auth=api_access(PUBLIC), summary="Every part's status and latency")
def health_summary(request):
    """Every part with its status and latency; 503 when a critical part is down."""
    parts = health.components()
    status = health.overall(parts)
    return JsonResponse({"status": status, "components": [p.as_dict() for p in parts]},
                        status=200 if status == "ok" else 503)


@router.get("/database", auth=api_access(PUBLIC), summary="Database status, version, pending migrations")
def health_database(request):
    part = health.database()
    return JsonResponse(part.as_dict(), status=200 if part.status == "ok" else 503)


@router.get("/security", auth=api_access(perm("accounts.view_security_report")), summary="Security report (Admin)")
def health_security(request):
    """For Admins: production hardening, each check passed or failed with the reason."""
    findings = health.security_report()
    return {
        "passed": all(f.passed for f in findings),
        "checks": [{"name": f.name, "passed": f.passed, "reason": f.reason} for f in findings],
    }
