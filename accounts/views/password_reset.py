"""/password-reset/...: a staff member who forgot their password gets a one-use link by e-mail
(Django's own flow and tokens), sent through the SMTP server of the E-mail settings.

The request page is rate-limited like sign-in, per client address and per e-mail address typed, so
it can't be used to flood a mailbox or to probe addresses; it answers the same whether or not the
address belongs to anyone. The link does not sign in: the new password is then used on /login/,
with its two-factor step where that applies. Both the e-mail and the change are audited.
"""
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import PasswordResetForm, SetPasswordForm
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse_lazy
from django.utils import timezone

from audit import trail
from audit.actors import Actor
from lib.network import address_or_none, address_subject, client_ip
from lib.throttle import Throttle
from siteconfig import store

from ..access import PUBLIC, access
from ..models import ApiToken

# Each request sends an e-mail, so every one counts; a mailbox gets a few links per window at most.
RESETS_PER_ADDRESS_TYPED = 3


def _throttles() -> tuple[Throttle, Throttle]:
    window = settings.LOGIN_LOCKOUT_MINUTES * 60
    return (Throttle("password-reset-ip", settings.LOGIN_FAILURES_PER_IP, window, window),
            Throttle("password-reset-email", RESETS_PER_ADDRESS_TYPED, window, window))


class StaffPasswordResetForm(PasswordResetForm):
    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.request = request
        self.fields["email"].label = "E-mail"

    def clean(self):
        cleaned = super().clean()
        email = cleaned.get("email")
        if email and self.request is not None:
            by_ip, by_email = _throttles()
            wait = by_ip.take(address_subject(client_ip(self.request))) or by_email.take(email.lower())
            if wait:
                self.retry_after = wait
                minutes = max(1, round(wait / 60))
                raise ValidationError(f"Too many reset requests. Try again in {minutes} "
                                      f"minute{'s' if minutes > 1 else ''}.", code="throttled")
        return cleaned

    def send_mail(self, subject_template_name, email_template_name, context, from_email, to_email,
                  html_email_template_name=None):
        super().send_mail(subject_template_name, email_template_name, context, from_email, to_email,
                          html_email_template_name)
        trail.record("password_reset_sent", context["user"], note=f"reset link e-mailed to {to_email}")


class StaffSetPasswordForm(SetPasswordForm):
    def save(self, commit=True):
        with transaction.atomic():
            user = super().save(commit)
            # A reset often follows a suspected leak: the API tokens go with the old password (the
            # other browser sessions already end, their session hash no longer matching).
            revoked = ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())
            address = address_or_none(client_ip(self.request)) if getattr(self, "request", None) else None
            trail.record("password_reset", user, actor=Actor.staff(user, address),
                         changes={"password": ["", "(changed)"]},
                         note=f"new password set from the e-mailed link; {revoked} API token(s) revoked")
        return user


class RequestView(auth_views.PasswordResetView):
    template_name = "accounts/password_reset.html"
    email_template_name = "accounts/password_reset_email.txt"
    subject_template_name = "accounts/password_reset_subject.txt"
    form_class = StaffPasswordResetForm
    success_url = reverse_lazy("password-reset-done")

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "request": self.request}

    def form_valid(self, form):
        self.extra_email_context = {"business": store.get("general.business_name"),
                                    "minutes": settings.PASSWORD_RESET_TIMEOUT // 60}
        return super().form_valid(form)

    def form_invalid(self, form):
        response = super().form_invalid(form)
        wait = getattr(form, "retry_after", 0)
        if wait:
            response.status_code = 429
            response["Retry-After"] = str(wait)
        return response


class ConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    form_class = StaffSetPasswordForm
    success_url = reverse_lazy("password-reset-complete")

    def get_form(self, form_class=None):
        form = super().get_form(form_class)
        form.request = self.request
        return form


request_reset = access(PUBLIC)(RequestView.as_view())
reset_sent = access(PUBLIC)(auth_views.PasswordResetDoneView.as_view(template_name="accounts/password_reset_done.html"))
confirm_reset = access(PUBLIC)(ConfirmView.as_view())
reset_done = access(PUBLIC)(auth_views.PasswordResetCompleteView.as_view(
    template_name="accounts/password_reset_complete.html"))
