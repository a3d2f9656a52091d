"""API /api/logs/activity: the audit trail, newest first, with the activity page's filters; each caller
reads the entries about what they may view (audit.trail.visible_to)."""
from datetime import datetime
from typing import Annotated, Any

from django.db.models import Q
from ninja import Field, FilterLookup, FilterSchema, Query, Router, Schema

from accounts.access import api_access, perm
from audit import trail
from audit.models import Entry
from lib.api_types import Moment
from lib.paging import page

from ..forms import action_named, actor_match, text_match

activity_router = Router(tags=["logs"])


class ActorOut(Schema):
    kind: str
    id: str
    name: str


class ObjectOut(Schema):
    type: str
    id: str
    label: str


class EntryOut(Schema):
    at: datetime
    actor: ActorOut
    action: str
    object: ObjectOut
    changes: dict[str, list[Any]]
    ip: str | None

    @staticmethod
    def resolve_actor(entry: Entry) -> dict:
        return {"kind": entry.actor_kind, "id": entry.actor_id, "name": entry.actor_name}

    @staticmethod
    def resolve_object(entry: Entry) -> dict:
        return {"type": entry.object_type, "id": entry.object_id, "label": entry.object_label}


class EntryPage(Schema):
    count: int
    results: list[EntryOut]


class ActivityFilter(FilterSchema):
    actor: str | None = None
    actor_kind: Entry.ActorKind | None = None
    object_type: str | None = None
    object_id: str | None = None
    action: str | None = None
    q: str | None = Field(None, description="text in the object's label or the actor's name")
    since: Annotated[Moment | None, FilterLookup("at__gte")] = None
    until: Annotated[Moment | None, FilterLookup("at__lt")] = None

    def filter_actor(self, value: str | None) -> Q:
        """A username (the actor's name) or an id, as on the page."""
        return actor_match(value) if value else Q()

    def filter_q(self, value: str | None) -> Q:
        return text_match(value.strip()) if value and value.strip() else Q()

    def filter_action(self, value: str | None) -> Q:
        return Q(action=action_named(value)) if value else Q()


@activity_router.get("/activity", auth=api_access(perm("audit.view_entry")), response=EntryPage,
                     summary="The audit trail: who did what, newest first")
def activity_log(request, filters: Query[ActivityFilter], limit: int = 50, offset: int = 0):
    return page(filters.filter(trail.visible_to(request.user)), limit, offset)
