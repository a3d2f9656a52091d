"""API: sign in for a bearer token, refresh it, sign out, and who am I."""
from datetime import datetime

from django.http import HttpResponse
from ninja import Router, Schema
from ninja.errors import HttpError
from ninja.responses import Status

from .. import services
from ..access import PUBLIC, STAFF, api_access

router = Router(tags=["auth"])


class Credentials(Schema):
    username: str
    password: str


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
             response={200: TokenOut, 401: Message, 429: Message})
def api_login(request, credentials: Credentials, response: HttpResponse):
    result = services.sign_in(request, credentials.username, credentials.password, via="API")
    if result.user is None:
        if result.retry_after:
            response["Retry-After"] = str(result.retry_after)
            return Status(429, Message(detail=result.error))
        raise HttpError(401, result.error)
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
