"""API: sign in for a bearer token, refresh it, sign out, and who am I."""
from datetime import datetime

from django.http import HttpResponse
from ninja import Field, Router, Schema
from ninja.errors import HttpError
from ninja.responses import Status

from .. import services, two_factor
from ..access import PUBLIC, STAFF, api_access

router = Router(tags=["auth"])


class Credentials(Schema):
    username: str
    password: str
    otp: str | None = Field(None, description="The code from the authenticator app (or a recovery code) "
                                              "of a staff member who uses two-factor sign-in")


class TokenOut(Schema):
    token: str
    token_type: str = "Bearer"
    expires_at: datetime


class Message(Schema):
    detail: str


class UserOut(Schema):
    id: int
    username: str
    name: str
    email: str
    roles: list[str]
    permissions: list[str]


def _bearer(request):
    token = getattr(request.user, "api_token", None)
    if token is None:
        raise HttpError(400, "This call needs the bearer token itself, not a browser session")
    return token


@router.post("/login", auth=api_access(PUBLIC), summary="Sign in for a bearer token",
             response={200: TokenOut, 401: Message, 403: Message, 429: Message})
def api_login(request, credentials: Credentials, response: HttpResponse):
    result = services.sign_in(request, credentials.username, credentials.password, via="API")
    if result.pending is not None:
        if not credentials.otp:  # the password was right and is not counted as a failure
            raise HttpError(401, 'otp required: this account uses two-factor sign-in; send the code from the '
                                 'authenticator app in "otp"')
        result = two_factor.verify_code(request, result.pending, credentials.otp, via="API")
    if result.user is None:
        if result.retry_after:
            response["Retry-After"] = str(result.retry_after)
            return Status(429, Message(detail=result.error))
        raise HttpError(401, result.error)
    if two_factor.must_enrol(result.user):
        raise HttpError(403, "Admins must use two-factor sign-in: set it up at /account/two-factor/ "
                             "(sign in on the web page), then ask for a token with the code in \"otp\"")
    raw, token = services.issue_token(result.user)
    return TokenOut(token=raw, expires_at=token.expires_at)


@router.post("/logout", auth=api_access(STAFF), summary="Revoke this bearer token", response={200: Message})
def api_logout(request):
    services.revoke_token(_bearer(request))
    return Message(detail="Token revoked")


@router.post("/refresh", auth=api_access(STAFF), summary="Swap this token for a new one",
             response={200: TokenOut, 409: Message})
def api_refresh(request):
    try:
        raw, token = services.refresh_token(_bearer(request))
    except services.StaffError as refused:
        raise HttpError(409, str(refused)) from None
    return TokenOut(token=raw, expires_at=token.expires_at)


@router.get("/user", auth=api_access(STAFF), summary="The signed-in staff member", response=UserOut)
def api_user(request):
    user = request.user
    return UserOut(
        id=user.pk, username=user.username, name=user.display_name, email=user.email,
        roles=user.role_names, permissions=sorted(user.get_all_permissions()),
    )
