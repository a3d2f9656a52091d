"""API /api/logs/system: the stored system log, newest first, with the page's filters."""
import logging
from datetime import datetime
from typing import Annotated

from django.db.models import Q
from ninja import Field, FilterLookup, FilterSchema, Query, Router, Schema

from accounts.access import api_access, perm
from audit.models import LogRecord
from lib.api_types import Moment
from lib.paging import page

system_log_router = Router(tags=["logs"])


class RecordOut(Schema):
    at: datetime
    level: str = Field(..., alias="level_name")
    logger: str
    message: str
    exception: str
    context: str = Field(..., description="the request (method and path) or the job it happened in")


class RecordPage(Schema):
    count: int
    results: list[RecordOut]


class SystemLogFilter(FilterSchema):
    level: int = Field(logging.WARNING, ge=0, le=50, description="the least level: 20 INFO, 30 WARNING, 40 ERROR, "
                                                                  "50 CRITICAL")
    logger: str | None = Field(None, max_length=200, description="this logger and those under it")
    q: str | None = Field(None, max_length=100, description="words in the message")
    since: Annotated[Moment | None, FilterLookup("at__gte")] = None
    until: Annotated[Moment | None, FilterLookup("at__lt")] = None

    def filter_level(self, level: int) -> Q:
        return Q(level__gte=level)

    def filter_logger(self, logger: str | None) -> Q:
        logger = (logger or "").strip()
        return Q(logger=logger) | Q(logger__startswith=f"{logger}.") if logger else Q()

    def filter_q(self, q: str | None) -> Q:
        return Q(message__icontains=q.strip()) if q and q.strip() else Q()


@system_log_router.get("/system", auth=api_access(perm("audit.view_logrecord")), response=RecordPage,
                       summary="The stored system log, newest first", by_alias=False)
def system_log(request, filters: Query[SystemLogFilter], limit: int = 50, offset: int = 0):
    return page(filters.filter(LogRecord.objects.all()), limit, offset)
