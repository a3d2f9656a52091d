"""Who is acting, for the entries written while they act.

A request's actor is its signed-in staff member (page or API token) with the client address,
resolved when an entry is written, since the API signs its caller in inside the view. A job's actor
is the job. Code acting for someone else (M-Pesa's callbacks, a customer in the portal) says so
with ``acting_as``. With nobody set (a management command, a shell) the actor is the system.
"""
from contextlib import contextmanager
from dataclasses import dataclass

from lib.network import address_or_none, client_ip

from . import acting, system_log


@dataclass(frozen=True)
class Actor:
    kind: str
    id: str = ""
    name: str = ""
    ip: str | None = None

    @classmethod
    def staff(cls, user, ip: str | None = None) -> "Actor":
        return cls("staff", str(user.pk), user.get_username(), ip)

    @classmethod
    def customer(cls, customer, ip: str | None = None) -> "Actor":
        return cls("customer", str(customer.pk), str(customer), ip)

    @classmethod
    def mpesa(cls, ip: str | None = None) -> "Actor":
        return cls("mpesa", "", "M-Pesa", ip)

    @classmethod
    def job(cls, name: str) -> "Actor":
        return cls("job", "", name)

    @classmethod
    def router(cls, router) -> "Actor":
        return cls("router", str(router.pk), str(router))


SYSTEM = Actor("system", "", "system")
_current = acting.now


def current() -> Actor:
    acting = _current.get()
    if acting is None:
        return SYSTEM
    if isinstance(acting, Actor):
        return acting
    return _from_request(acting)


def _from_request(request) -> Actor:
    ip = address_or_none(client_ip(request))
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return Actor.staff(user, ip)
    return Actor("system", "", "anonymous request", ip)


@contextmanager
def acting_as(actor: Actor):
    token = _current.set(actor)
    try:
        yield actor
    finally:
        _current.reset(token)


class RequestActorMiddleware:
    """Makes the request the actor of what it changes (resolved lazily, see the module docstring)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _current.set(request)
        try:
            return self.get_response(request)
        finally:
            _current.reset(token)
            system_log.flush()  # what the request logged inside its transactions


_job_tokens: dict[str, object] = {}


def job_started(sender=None, task_id=None, task=None, **kwargs) -> None:
    if _current.get() is not None:
        return  # run in place (eager) for a request or another job: the one who asked is the actor
    _job_tokens[task_id] = _current.set(Actor.job(getattr(task, "name", "") or str(sender)))


def job_finished(sender=None, task_id=None, **kwargs) -> None:
    system_log.flush()
    token = _job_tokens.pop(task_id, None)
    if token is not None:
        try:
            _current.reset(token)
        except ValueError:  # reset from another context (an eager task inside a request): let it be
            pass
