"""API: /api/hotspot/sessions (open sessions, disconnecting one) and /api/logs/sessions (the session log).

Both lists are radius.sessions' own answers (open_sessions, history), paged; the query parameters
are what those functions take.
"""
import ipaddress
from datetime import datetime

from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema
from ninja.errors import HttpError
from ninja.responses import Status

from accounts.access import api_access, perm
from lib.api_errors import Problem
from lib.api_types import Moment
from lib.paging import EXACT_UP_TO, count_estimated, page

from .. import coa, sessions
from ..models import RadAcct

sessions_router = Router(tags=["sessions"])
logs_router = Router(tags=["logs"])


class SessionOut(Schema):
    id: int
    username: str | None
    nas_ip_address: str
    framed_ip_address: str | None
    mac: str | None = Field(None, alias="calling_station_id")
    acct_session_id: str
    started_at: datetime | None = Field(None, alias="acct_start_time")
    updated_at: datetime | None = Field(None, alias="acct_update_time")
    stopped_at: datetime | None = Field(None, alias="acct_stop_time")
    session_seconds: int | None = Field(None, alias="acct_session_time")
    download_bytes: int | None = Field(None, alias="acct_output_octets")
    upload_bytes: int | None = Field(None, alias="acct_input_octets")
    terminate_cause: str | None = Field(None, alias="acct_terminate_cause")


class OpenSessionQuery(Schema):
    username: str | None = None
    nas: str | None = None

    def nas_address(self) -> str | None:
        if self.nas is None:
            return None
        try:
            ipaddress.ip_address(self.nas)
        except ValueError:
            raise HttpError(422, f"nas must be the router's IP address, not {self.nas!r}") from None
        return self.nas


class SessionLogQuery(Schema):
    username: str | None = None
    since: Moment | None = None
    until: Moment | None = None


class SessionPage(Schema):
    count: int
    count_estimated: bool = count_estimated()
    results: list[SessionOut]


class DisconnectOut(Schema):
    outcome: str
    error_cause: int | None
    detail: str
    tries: int
    api_kicked: int | None = Field(None, description="sessions ended over the router's API when the NAS "
                                                     "did not acknowledge (null: not tried)")


@sessions_router.get("/sessions", auth=api_access(perm("radius.view_radacct")), response=SessionPage,
                     summary="Open sessions", by_alias=False)
def open_sessions(request, query: Query[OpenSessionQuery], limit: int = 50, offset: int = 0):
    return page(sessions.open_sessions(query.username, query.nas_address()), limit, offset, estimate_past=EXACT_UP_TO)


@sessions_router.post("/sessions/{session_id}/disconnect", auth=api_access(perm("radius.disconnect_session")),
                      response={200: DisconnectOut, 409: DisconnectOut | Problem},
                      summary="Disconnect a session (RFC 5176); 409: the NAS did not end it, or it had ended")
def disconnect(request, session_id: int):
    session = get_object_or_404(RadAcct, pk=session_id)
    if not session.is_open:
        raise HttpError(409, "This session has already ended")
    attempt = coa.disconnect(session, requested_by=request.user.username)
    body = {"outcome": attempt.outcome, "error_cause": attempt.error_cause, "detail": attempt.detail,
            "tries": attempt.tries, "api_kicked": attempt.api_kicked}
    return Status(200 if attempt.ended else 409, body)


@logs_router.get("/sessions", auth=api_access(perm("radius.view_radacct")), response=SessionPage,
                 summary="Session history", by_alias=False)
def session_log(request, query: Query[SessionLogQuery], limit: int = 50, offset: int = 0):
    return page(sessions.history(query.username, query.since, query.until), limit, offset, estimate_past=EXACT_UP_TO)
