"""The dashboard (/) and the health page (/health/), each served by the views module of its name."""
from django.urls import path

from .views import dashboard, health

urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("health/", health.health_page, name="health"),
]
