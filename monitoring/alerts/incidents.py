"""The evaluator and the life of an incident.

Every minute (beat's "evaluate-alerts") ``evaluate`` runs each rule (monitoring.alerts.rules) and
compares what fails with the open incidents of its kind:

- a subject failing with no incident opens one, and its subscribers are told once ("opened");
- an open incident whose subject no longer fails is resolved, and they are told at once ("resolved");
- a subject failing again within alerts.flap_minutes of resolving reopens the same incident: they are
  told once that it fails again, and from then on its resolution is held until it has stayed
  resolved flap_minutes, so a router that drops ten times in an hour is one incident and a handful
  of messages, not twenty;
- an open incident nobody acknowledged is repeated every alerts.reminder_minutes (0: never);
  acknowledging it (a staff member, audited) stops the reminders;
- once a business day, from 07:00, those who asked get the daily digest.

Each rule's row (monitoring.AlertRule) is claimed with SKIP LOCKED for its evaluation, and every
decision and the messages it writes commit together: two evaluators at once evaluate each rule once,
and the partial unique index on open incidents stands behind that. The messages are delivered after
commit (monitoring.alerts.outbox).
"""
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from audit import trail
from siteconfig import store

from ..models import AlertKind, AlertMessage, AlertRule, Incident
from . import outbox, rules
from .outbox import Audience

log = logging.getLogger(__name__)
Told, Kind = Incident.Told, AlertMessage.Kind


@dataclass
class Evaluated:
    """What one evaluation did (the task's result and the command's output)."""
    evaluated: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # claimed by another evaluator at that moment
    errors: dict[str, str] = field(default_factory=dict)
    opened: int = 0
    resolved: int = 0
    reopened: int = 0
    queued: int = 0
    delivered: outbox.Delivered = field(default_factory=outbox.Delivered)


@dataclass(frozen=True)
class Timing:
    reminder: timedelta | None
    flap: timedelta

    @classmethod
    def from_settings(cls) -> "Timing":
        reminder, flap = store.get("alerts.reminder_minutes"), store.get("alerts.flap_minutes")
        return cls(timedelta(minutes=reminder) if reminder else None, timedelta(minutes=flap))


class AlreadyAcknowledged(Exception):
    def __init__(self, incident: Incident):
        super().__init__(f"incident {incident.pk} was acknowledged by {incident.acknowledged_by_name} already")
        self.incident = incident


def evaluate(now: datetime | None = None, kinds=None, deliver: bool = True) -> Evaluated:
    """Run the rules (all, or ``kinds``) as of ``now``, then deliver what is due. Safe to run twice
    and concurrently."""
    now = now or timezone.now()
    kinds = [AlertKind(kind) for kind in (kinds or AlertKind.values)]
    result, timing, audience = Evaluated(), Timing.from_settings(), Audience()
    AlertRule.objects.bulk_create([AlertRule(kind=kind) for kind in kinds], ignore_conflicts=True)
    for kind in kinds:
        with transaction.atomic():
            rule = AlertRule.objects.select_for_update(skip_locked=True).filter(kind=kind).first()
            if rule is None:
                result.skipped.append(kind)
                continue
            try:
                with transaction.atomic():
                    failing = rules.RULES[kind](now)
            except Exception as error:  # noqa: BLE001 - one broken rule must not silence the others
                log.exception("alert rule %s could not be evaluated", kind)
                rule.error = result.errors[kind] = f"{type(error).__name__}: {error}"[:1000]
                rule.save(update_fields=["error"])
                continue
            _apply(kind, failing, now, timing, audience, result)
            rule.evaluated_at, rule.failing, rule.error = now, sorted(failing), ""
            rule.save(update_fields=["evaluated_at", "failing", "error"])
            result.evaluated.append(kind)
    result.queued += outbox.queue_digests(now, audience)
    if deliver:
        result.delivered = outbox.deliver_due(now)
    return result


def _apply(kind: str, failing: dict, now: datetime, timing: Timing, audience: Audience, result: Evaluated) -> None:
    current = {i.subject: i for i in Incident.objects.select_for_update().filter(kind=kind, resolved_at__isnull=True)}

    def tell(incident: Incident, message: str) -> None:
        incident.told = Told.RESOLVED if message == Kind.RESOLVED else Told.OPEN
        incident.told_at = now
        result.queued += outbox.queue(incident, message, now, audience)

    for subject, incident in current.items():
        if subject in failing:
            continue
        incident.resolved_at = now
        result.resolved += 1
        # One that failed again is told resolved only once it stays so (below, when it has).
        if incident.told == Told.OPEN and not incident.flaps:
            tell(incident, Kind.RESOLVED)
        incident.save()

    # Flapping incidents that stayed resolved long enough: now they are told so.
    for incident in Incident.objects.select_for_update().filter(kind=kind, told=Told.OPEN,
                                                                resolved_at__lte=now - timing.flap):
        tell(incident, Kind.RESOLVED)
        incident.save(update_fields=["told", "told_at"])

    for subject, found in failing.items():
        incident = current.get(subject)
        if incident is None:
            incident = _recently_resolved(kind, subject, now, timing)
            if incident is None:
                incident = Incident.objects.create(kind=kind, subject=subject, label=found.label[:200],
                                                   detail=found.detail, opened_at=now, last_failing_at=now,
                                                   told_at=now)
                result.opened += 1
                result.queued += outbox.queue(incident, Kind.OPENED, now, audience)
                continue
            incident.resolved_at = None
            incident.flaps += 1
            result.reopened += 1
        incident.label, incident.detail, incident.last_failing_at = found.label[:200], found.detail, now
        if incident.told == Told.RESOLVED:
            tell(incident, Kind.AGAIN)
        elif timing.reminder and incident.acknowledged_at is None and now - incident.told_at >= timing.reminder:
            tell(incident, Kind.REMINDER)
        incident.save()


def _recently_resolved(kind: str, subject: str, now: datetime, timing: Timing) -> Incident | None:
    if not timing.flap:
        return None
    return (Incident.objects.select_for_update()
            .filter(kind=kind, subject=subject, resolved_at__gte=now - timing.flap, resolved_at__lte=now)
            .order_by("-resolved_at").first())


def acknowledge(incident_id: int, *, by) -> Incident:
    """A staff member takes the incident: its reminders stop (audited). Once only."""
    with transaction.atomic():
        incident = Incident.objects.select_for_update().get(pk=incident_id)
        if incident.acknowledged_at is not None:
            raise AlreadyAcknowledged(incident)
        incident.acknowledged_at, incident.acknowledged_by = timezone.now(), by
        incident.acknowledged_by_name = by.get_username()
        incident.save(update_fields=["acknowledged_at", "acknowledged_by", "acknowledged_by_name"])
        trail.record("acknowledged", incident, note=incident.detail[:200])
    return incident
