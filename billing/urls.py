from django.urls import path

from . import callback_views

# Before the JSON API's own patterns (config/urls.py), so these raw-body views win their paths.
callback_patterns = [
    path("api/payments/mpesa/callback/<str:token>", callback_views.mpesa_callback, name="mpesa-callback"),
    path("api/payments/callback/<str:token>", callback_views.stk_callback, name="mpesa-stk-callback"),
    path("api/payments/c2b/confirmation/<str:token>", callback_views.c2b_confirmation, name="mpesa-c2b-confirmation"),
    path("api/payments/c2b/validation/<str:token>", callback_views.c2b_validation, name="mpesa-c2b-validation"),
]

urlpatterns = [*callback_patterns]
