"""What is acting in this thread or task now: a request, an Actor, or nothing. Set by audit.actors
(the request middleware, the job signals, acting_as); read there for entries and by the system log
for where a record came from."""
from contextvars import ContextVar

now: ContextVar[object | None] = ContextVar("audit_acting", default=None)
