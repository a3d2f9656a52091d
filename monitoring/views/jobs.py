"""/health/jobs/: failed background jobs grouped by task and exception, each one retried (sent again
with its arguments) or dismissed."""
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe
from kombu.exceptions import OperationalError as BrokerDown

from accounts.access import access, perm
from lib.listing import list_page

from .. import jobs
from ..forms import FailedJobFilter
from ..models import TaskFailure

CHANGE = perm("monitoring.change_taskfailure")


@access(perm("monitoring.view_taskfailure"))
@require_safe
def failed_jobs(request):
    filters = FailedJobFilter(request.GET)
    failures = filters.apply(TaskFailure.objects.all())
    return list_page(request, failures, "monitoring/jobs.html", filters=filters, groups=jobs.failure_groups(failures),
                     eager=jobs.eager(), can_act=request.user.has_perm("monitoring.change_taskfailure"))


@access(CHANGE)
@require_POST
def retry_failed_job(request, pk: int):
    try:
        retried = jobs.retry(pk, by=request.user)
    except TaskFailure.DoesNotExist:
        raise Http404("No such failure") from None
    except jobs.FailureHandled as handled:
        messages.warning(request, f"Not sent again: it was {handled.failure.state} already.")
    except jobs.NotRetryable as refused:
        messages.error(request, f"Cannot be sent again: {refused}")
    except BrokerDown as error:
        messages.error(request, f"The broker is unreachable, nothing was sent: {error}")
    else:
        messages.success(request, _retried_message(retried))
    return _back(request)


@access(CHANGE)
@require_POST
def dismiss_failed_job(request, pk: int):
    try:
        jobs.dismiss(pk, by=request.user)
    except TaskFailure.DoesNotExist:
        raise Http404("No such failure") from None
    except jobs.FailureHandled as handled:
        messages.warning(request, f"Not dismissed: it was {handled.failure.state} already.")
    else:
        messages.success(request, "Dismissed.")
    return _back(request)


def _retried_message(retried: jobs.Retried) -> str:
    name = retried.failure.task_name
    if not retried.ran_in_place:
        return f"{name} sent again as task {retried.new_task_id}."
    if retried.succeeded:
        return f"{name} ran again in-process and succeeded."
    return f"{name} ran again in-process and failed again: see the new failure below."


def _back(request):
    """To the list as it was filtered (the form posts to a URL carrying the list's query)."""
    query = request.GET.urlencode()
    return redirect(reverse("failed-jobs") + (f"?{query}" if query else ""))
