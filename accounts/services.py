"""Staff workflows: signing in (with lockout), API tokens, and managing staff accounts and roles.

Each is written to the audit trail: signed_in (the staff member, from their address) and
sign_in_failed (the address, and the username tried: never the password), tokens issued and
revoked (never their value), staff created, changed (their password only as "(changed)", their
roles by name), activated and deactivated; custom roles created, changed and deleted (with the
members who lost one).
"""
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.models import Group, Permission
from django.contrib.sessions.models import Session
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django_otp import user_has_device

from audit import trail
from audit.actors import Actor, current
from lib.network import address_or_none, address_subject, client_ip
from lib.throttle import Throttle

from .models import ApiToken, RoleProfile, User
from .permission_labels import is_hidden
from .roles import is_built_in, is_built_in_name

TOKEN_PREFIX = "hsp_"
STAFF_AUDITED = ("first_name", "last_name", "email", "roles")
# Writing last_used_at on every API call would turn each read into a write; once a minute will do.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class StaffError(Exception):
    """A staff change that is refused, with a message for the person who asked."""


class RoleError(StaffError):
    """A role change refused for its input; ``field`` names the input at fault (or is empty)."""

    def __init__(self, message: str, field: str = ""):
        super().__init__(message)
        self.field = field


class RoleNameTaken(RoleError):
    """Another role has this name (in any case)."""


class BuiltInRoleError(StaffError):
    """A change to one of the four built-in roles, which accounts/roles.py alone defines."""


# --- signing in -----------------------------------------------------------------------------------


def throttles() -> tuple[Throttle, Throttle]:
    """The sign-in limits per username and per client address; authenticator codes count against them too."""
    lockout = settings.LOGIN_LOCKOUT_MINUTES * 60
    return (
        Throttle("login-username", settings.LOGIN_FAILURES_PER_USERNAME, lockout, lockout),
        Throttle("login-ip", settings.LOGIN_FAILURES_PER_IP, lockout, lockout),
    )


@dataclass
class LoginResult:
    user: User | None
    error: str = ""
    retry_after: int = 0  # seconds; set when locked out
    # The password was right, but the user has an authenticator: accounts.two_factor.verify_code signs them in.
    pending: User | None = None


def lockout_message(seconds: int) -> str:
    minutes = max(1, round(seconds / 60))
    return f"Too many failed sign-in attempts. Try again in {minutes} minute{'s' if minutes > 1 else ''}."


def sign_in(request: HttpRequest, username: str, password: str, *, via: str = "page") -> LoginResult:
    """Check credentials, counting failures per username and per client IP. ``via`` ("page", "API")
    goes in the audit entry's note."""
    result = _check(request, username, password)
    address = address_or_none(client_ip(request))
    if result.pending is not None:
        return result  # not signed in yet: the code step writes signed_in or the failure
    if result.user is not None:
        trail.record("signed_in", result.user, actor=Actor.staff(result.user, address), note=via)
    else:
        # The object is the username tried (the account if there is one); the actor only the address.
        tried = username.strip()
        known = User.objects.filter(username=tried).values_list("pk", flat=True).first()
        trail.record("sign_in_failed", object_type=User._meta.label_lower, object_id=known, label=tried,
                     actor=Actor("system", "", "anonymous", address),
                     note=f"{via}: {'locked out' if result.retry_after else 'wrong username or password'}")
    return result


def _check(request: HttpRequest, username: str, password: str) -> LoginResult:
    by_username, by_ip = throttles()
    ip = address_subject(client_ip(request))
    username = username.strip()
    # Counted before the password is checked, so a parallel burst gets no more checks than the limit.
    wait = by_ip.take(ip)
    if not wait:
        wait = by_username.take(username)
        if wait:  # refused for the username: not an attempt the address made
            by_ip.forgive(ip)
    if wait:
        return LoginResult(None, lockout_message(wait), wait)
    user = authenticate(request, username=username, password=password)
    if user is None:
        wait = max(by_username.failed(username), by_ip.failed(ip))
        if wait:
            return LoginResult(None, lockout_message(wait), wait)
        return LoginResult(None, "Wrong username or password.")
    by_ip.forgive(ip)
    if user_has_device(user, confirmed=True):
        # The right password alone is no sign-in: the counter keeps earlier failures and the code is counted.
        by_username.forgive(username)
        return LoginResult(None, pending=user)
    by_username.reset(username)
    return LoginResult(user)


# --- API tokens -----------------------------------------------------------------------------------


def _digest(raw: str) -> str:
    # Tokens are 256 random bits: a fast hash is enough, salting and stretching add nothing.
    return hashlib.sha256(raw.encode()).hexdigest()


def issue_token(user: User) -> tuple[str, ApiToken]:
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = timezone.now()
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user,
            digest=_digest(raw),
            prefix=raw[:12],
            created_at=now,
            expires_at=now + timedelta(hours=settings.API_TOKEN_TTL_HOURS),
        )
        who = current()
        if who.kind == "system":  # the API sign-in: nobody is signed in yet but the one it is for
            who = Actor.staff(user, who.ip)
        _record_token("issued", token, f"expires {token.expires_at:%Y-%m-%d %H:%M}", actor=who)
    return raw, token


def _record_token(action: str, token: ApiToken, note: str = "", actor: Actor | None = None) -> None:
    # Labelled by its owner and id only: even the token's prefix stays out of the trail.
    trail.record(action, token, label=f"API token #{token.pk} of {token.user.username}", note=note, actor=actor)


def find_token(raw: str) -> ApiToken | None:
    if not raw.startswith(TOKEN_PREFIX):
        return None
    token = ApiToken.objects.select_related("user").filter(digest=_digest(raw)).first()
    if token is None or not token.is_usable():
        return None
    return token


def user_for_token(raw: str) -> User | None:
    token = find_token(raw)
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    token.user.api_token = token
    return token.user


def revoke_token(token: ApiToken) -> None:
    with transaction.atomic():
        if ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now()):
            _record_token("revoked", token, "signed out")


def refresh_token(token: ApiToken) -> tuple[str, ApiToken]:
    """Replace a usable token with a new one; the old one stops working at once."""
    with transaction.atomic():
        claimed = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        if not claimed:  # refreshed concurrently: only one caller gets the new token
            raise StaffError("This token was already refreshed or revoked")
        _record_token("revoked", token, "refreshed")
        return issue_token(token.user)


def purge_expired_credentials(now: datetime | None = None) -> dict[str, int]:
    """Delete API tokens that ended over a day ago and expired sessions. Safe to run any time."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=1)
    tokens, _ = ApiToken.objects.filter(expires_at__lt=cutoff).delete()
    revoked, _ = ApiToken.objects.filter(revoked_at__lt=cutoff).delete()
    sessions, _ = Session.objects.filter(expire_date__lt=now).delete()
    return {"tokens": tokens + revoked, "sessions": sessions}


# --- staff accounts -------------------------------------------------------------------------------


MANAGE_STAFF = ("accounts", "manage_staff")


def _manages_staff(groups) -> bool:
    """Whether these roles together let their holder manage staff and roles."""
    return Permission.objects.filter(group__in=list(groups), content_type__app_label=MANAGE_STAFF[0],
                                     codename=MANAGE_STAFF[1]).exists()


def _keeps_staff_management(actor: User, had: bool, groups_after) -> None:
    # Whoever manages staff may not take that away from themselves: another Admin has to.
    if had and not actor.is_superuser and not _manages_staff(groups_after):
        raise StaffError("You cannot remove your own Admin role (or the role that lets you manage staff); "
                         "ask another Admin.")


@transaction.atomic
def create_staff(*, username: str, password: str, roles: list[Group], first_name: str = "",
                 last_name: str = "", email: str = "") -> User:
    user = User(username=username, first_name=first_name, last_name=last_name, email=email)
    user.set_password(password)
    user.save()
    user.groups.set(roles)
    after = {name: value for name, value in _audited(user).items() if value}
    trail.record("created", user, label=user.username, changes=trail.changes({}, after))
    return user


def _audited(user: User) -> dict:
    found = trail.snapshot(user, STAFF_AUDITED[:-1])
    found["roles"] = sorted(g.name for g in user.groups.all())
    return found


@transaction.atomic
def update_staff(actor: User, user: User, *, roles: list[Group], first_name: str, last_name: str,
                 email: str, password: str = "") -> User:
    if actor.pk == user.pk:
        _keeps_staff_management(actor, _manages_staff(actor.groups.all()), roles)
    before = _audited(user)
    user.first_name, user.last_name, user.email = first_name, last_name, email
    if password:
        user.set_password(password)
        # A reset password is often a leaked one: its bearer tokens go with it.
        ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())
    user.save()
    user.groups.set(roles)
    differs = trail.changes(before, _audited(user))
    if password:
        differs["password"] = trail.SECRET
    if differs:
        trail.record("changed", user, label=user.username, changes=differs,
                     note="its API tokens revoked" if password else "")
    return user


@transaction.atomic
def set_staff_active(actor: User, user: User, active: bool) -> User:
    if actor.pk == user.pk and not active:
        raise StaffError("You cannot deactivate your own account.")
    was = user.is_active
    user.is_active = active
    user.save(update_fields=["is_active"])
    if was != active:
        trail.record("activated" if active else "deactivated", user, label=user.username,
                     note="" if active else "its sessions and API tokens end")
    if not active:
        # Sessions die with is_active (the auth backend refuses inactive users); tokens too.
        ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())
    return user


# --- custom roles -----------------------------------------------------------------------------------


def _role_snapshot(group: Group) -> dict:
    profile = RoleProfile.objects.filter(group=group).first()
    return {"name": group.name, "description": profile.description if profile else "",
            "permissions": sorted(f"{p.content_type.app_label}.{p.codename}"
                                  for p in group.permissions.select_related("content_type"))}


def _permissions_named(names) -> list[Permission]:
    """The offered permissions ``names`` ("app_label.codename") spell; unknown or hidden ones refused by name."""
    wanted = {str(name).strip() for name in names if str(name).strip()}
    if not wanted:
        raise RoleError("Pick at least one permission: a role without any lets its members do nothing.",
                        "permissions")
    found = {}
    for p in Permission.objects.select_related("content_type"):
        name = f"{p.content_type.app_label}.{p.codename}"
        if name in wanted and not is_hidden(name):
            found[name] = p
    unknown = sorted(wanted - found.keys())
    if unknown:
        raise RoleError(f"Unknown permission{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}",
                        "permissions")
    return list(found.values())


def _checked_name(name: str, group: Group | None = None) -> str:
    name = name.strip()
    if not name:
        raise RoleError("Give the role a name.", "name")
    if len(name) > 150:
        raise RoleError("A role's name is at most 150 characters.", "name")
    if is_built_in_name(name):
        raise RoleError(f"{name} is a built-in role's name; choose another.", "name")
    taken = Group.objects.filter(name__iexact=name)
    if group is not None:
        taken = taken.exclude(pk=group.pk)
    if taken.exists():
        raise RoleNameTaken(f"A role named {name} already exists.", "name")
    return name


def _refuse_built_in(group: Group, doing: str) -> None:
    if is_built_in(group):
        raise BuiltInRoleError(f"{group.name} is a built-in role: it cannot be {doing}. "
                               "Create a custom role with the permissions you want instead.")


@transaction.atomic
def create_role(*, name: str, description: str = "", permissions) -> Group:
    """A custom role holding exactly ``permissions`` ("app_label.codename" each)."""
    name = _checked_name(name)
    chosen = _permissions_named(permissions)
    try:
        with transaction.atomic():
            group = Group.objects.create(name=name)
    except IntegrityError:  # created concurrently under the same name
        raise RoleNameTaken(f"A role named {name} already exists.", "name") from None
    RoleProfile.objects.create(group=group, description=description.strip())
    group.permissions.set(chosen)
    trail.record("created", group, label=group.name, changes=trail.changes({}, _role_snapshot(group)))
    return group


@transaction.atomic
def update_role(actor: User, group: Group, *, name: str, description: str = "", permissions) -> Group:
    _refuse_built_in(group, "changed")
    group = Group.objects.select_for_update().get(pk=group.pk)
    managed = _manages_staff(actor.groups.all())
    name = _checked_name(name, group)
    chosen = _permissions_named(permissions)
    before = _role_snapshot(group)
    group.name = name
    group.save(update_fields=["name"])
    RoleProfile.objects.update_or_create(group=group, defaults={"description": description.strip()})
    group.permissions.set(chosen)
    _keeps_staff_management(actor, managed, actor.groups.all())
    differs = trail.changes(before, _role_snapshot(group))
    if differs:
        trail.record("changed", group, label=group.name, changes=differs)
    return group


@transaction.atomic
def delete_role(actor: User, group: Group) -> list[str]:
    """Delete a custom role; its members lose it (and what only it gave them). Returns their usernames."""
    _refuse_built_in(group, "deleted")
    members = sorted(group.user_set.values_list("username", flat=True))
    _keeps_staff_management(actor, _manages_staff(actor.groups.all()), actor.groups.exclude(pk=group.pk))
    before = _role_snapshot(group)
    label, pk = group.name, group.pk
    group.delete()
    note = f"{len(members)} member{'s' if len(members) != 1 else ''} lost it: {', '.join(members)}" if members \
        else "it had no members"
    trail.record("deleted", object_type=Group._meta.label_lower, object_id=pk, label=label,
                 changes={field: [value, None] for field, value in before.items()}, note=note[:255])
    return members
