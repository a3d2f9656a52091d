"""The dashboard (/), the health page (/health/) and the activity list (/activity/), each served by the
views module of its name."""
from django.urls import path

from .views import activity, dashboard, health, system_log

urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("health/", health.health_page, name="health"),
    path("activity/", activity.activity_list, name="activity-list"),
    path("logs/system/", system_log.system_log, name="system-log"),
]
