"""URLs under /radius/, each served by the views module of the same name."""
from django.urls import path

from .views import auth_log, nas, sessions, users

urlpatterns = [
    path("radius/nas/", nas.nas_list, name="radius-nas"),
    path("radius/users/", users.user_list, name="radius-users"),
    path("radius/sessions/", sessions.active_sessions, name="radius-sessions"),
    path("radius/sessions/history/", sessions.session_history, name="radius-session-history"),
    path("radius/sessions/<int:pk>/disconnect/", sessions.disconnect_session, name="radius-session-disconnect"),
    path("radius/auth-log/", auth_log.auth_log, name="radius-auth-log"),
]
