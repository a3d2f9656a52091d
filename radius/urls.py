from django.urls import path

from . import views

urlpatterns = [
    path("radius/nas/", views.nas_list, name="radius-nas"),
    path("radius/users/", views.user_list, name="radius-users"),
    path("radius/sessions/", views.active_sessions, name="radius-sessions"),
    path("radius/sessions/history/", views.session_history, name="radius-session-history"),
    path("radius/sessions/<int:pk>/disconnect/", views.disconnect_session, name="radius-session-disconnect"),
    path("radius/auth-log/", views.auth_log, name="radius-auth-log"),
]
