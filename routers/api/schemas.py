"""What the routers API modules share: the error answers (a refusal, a router that failed us) and a
started provisioning run, with the 502 answer built from a RouterError."""
from ninja import Schema
from ninja.responses import Status

from ..routeros import RouterError


class Message(Schema):
    detail: str


class RouterFailure(Schema):
    """A router that failed us: ``reason`` unreachable | auth_failed | refused | secret_unreadable."""

    detail: str
    reason: str


class JobStarted(Schema):
    job_id: int
    status: str


def router_failed(error: RouterError) -> Status:
    return Status(502, {"detail": str(error), "reason": error.reason})


# What every action on a live router may answer besides its own success.
FAILED = {404: Message, 422: Message, 502: RouterFailure}
