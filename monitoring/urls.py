"""The dashboard (/), the health page (/health/), failed jobs (/health/jobs/) and the activity list
(/activity/), each served by the views module of its name."""
from django.urls import path

from .views import activity, dashboard, health, jobs, search, system_log

urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("health/", health.health_page, name="health"),
    path("health/jobs/", jobs.failed_jobs, name="failed-jobs"),
    path("health/jobs/<int:pk>/retry/", jobs.retry_failed_job, name="failed-job-retry"),
    path("health/jobs/<int:pk>/dismiss/", jobs.dismiss_failed_job, name="failed-job-dismiss"),
    path("activity/", activity.activity_list, name="activity-list"),
    path("logs/system/", system_log.system_log, name="system-log"),
    path("search/", search.search, name="search"),
]
