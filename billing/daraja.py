"""The M-Pesa Daraja adapter (httpx): OAuth token shared by all workers, STK push, STK query, C2B
URL registration. Errors are typed: ``retryable`` says whether trying again later may succeed.
Facts from docs/REFERENCE.md (M-Pesa Daraja).

The keys, shortcode and endpoints are the M-Pesa settings (``siteconfig``: saved in the browser,
else the environment), read each time a ``Daraja`` is made, i.e. for every push, query and
registration: a change reaches every web and worker process within SITECONFIG_CHECK_SECONDS,
without a restart. The cached token is keyed by a digest of the endpoint and the key pair, so a
process that sees new keys never uses the old keys' token, whichever process saved them.
"""
import base64
import hashlib
import ipaddress
import time
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import httpx
from django.conf import settings
from django.dispatch import receiver

from lib.network import in_networks

# The token survives a Redis outage in process memory: buying must not need Redis.
from lib.shared_cache import cache
from siteconfig import store
from siteconfig.sections import MPESA_HOSTS

NAIROBI = ZoneInfo("Africa/Nairobi")
TOKEN_KEY = "daraja:token:{digest}"
LOCK_KEY = "daraja:token-lock:{digest}"
# The digest of the keys whose token was fetched last (any process), so a save can drop it.
LAST_DIGEST_KEY = "daraja:token-for"
# A change to these makes another token (the passkey and shortcode only sign each request).
TOKEN_SETTINGS = {"environment", "consumer_key", "consumer_secret"}
BUY_GOODS = "CustomerBuyGoodsOnline"
# Refresh a little before Daraja's expiry so no request carries a token that dies in flight.
TOKEN_MARGIN_SECONDS = 120
PROCESSING = "500.001.1001"  # STK query while the customer hasn't answered; also "wrong credentials"
RETRYABLE_CODES = {PROCESSING, "500.003.02", "500.003.03", "404.001.03"}


class DarajaError(Exception):
    """``reason``: "timeout" or "unreachable" when Daraja never answered, else "refused"."""

    def __init__(self, message: str, *, code: str = "", retryable: bool = False, status: int | None = None,
                 reason: str = "refused"):
        super().__init__(message)
        self.code, self.retryable, self.status, self.reason = code, retryable, status, reason


@dataclass(frozen=True)
class StkPush:
    merchant_request_id: str
    checkout_request_id: str
    customer_message: str


@dataclass(frozen=True)
class StkResult:
    """What the query knows: ``pending`` until the customer answers, then the ResultCode."""

    pending: bool
    result_code: int | None = None
    result_desc: str = ""


def endpoint(environment: str) -> str:
    """Daraja's base URL for the M-Pesa ``environment`` setting: Safaricom's sandbox or production
    host, or for "simulator" MPESA_BASE_URL (the in-project simulator, the quick start's)."""
    return MPESA_HOSTS.get(environment, settings.MPESA_BASE_URL).rstrip("/")


def callback_base_url() -> str:
    """This server's public address as Safaricom reaches it (callbacks are posted under it)."""
    return str(store.get("mpesa.callback_base_url")).rstrip("/")


def callback_allowed(ip: str) -> bool:
    """Whether a callback from ``ip`` may be processed: any address while the allowed networks are
    blank (the URL's secret token still applies), else only one inside them."""
    allowed = store.get("mpesa.callback_allowed_networks")
    if not allowed:
        return True
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    return in_networks(address, list(allowed))


@dataclass(frozen=True)
class CredentialsCheck:
    """What "Test credentials" found: ``message`` is for the operator (Safaricom's own words when
    it refused); ``reason`` is "" when the keys got a token, else refused / timeout / unreachable."""

    ok: bool
    environment: str
    message: str
    code: str = ""
    reason: str = ""


def check_credentials() -> CredentialsCheck:
    """Ask Daraja for a token with the saved M-Pesa keys, as the next push would. Changes nothing of
    ours (the token it gets is the one the next push uses), so it is not audited."""
    environment = store.get("mpesa.environment")
    daraja = Daraja()
    who = "The Daraja simulator" if environment == "simulator" else f"Safaricom ({environment})"
    try:
        daraja.check_credentials()
    except DarajaError as error:
        if error.reason == "refused":
            said = f"{error} ({error.code})" if error.code else str(error)
            return CredentialsCheck(False, environment, f"{who} refused the keys: {said}", error.code, error.reason)
        return CredentialsCheck(False, environment, f"The keys were not checked: {error}", error.code, error.reason)
    return CredentialsCheck(True, environment, f"{who} accepted the keys: it issued a token.")


def _digest(base_url: str, consumer_key: str, consumer_secret: str) -> str:
    # Names the token in the shared cache without putting the secret there.
    raw = "\0".join((base_url, consumer_key, consumer_secret)).encode()
    return hashlib.sha256(raw).hexdigest()[:32]


class Daraja:
    """One conversation's settings: each argument left out is read from the M-Pesa settings now."""

    def __init__(self, *, base_url: str | None = None, consumer_key: str | None = None,
                 consumer_secret: str | None = None, shortcode: str | None = None, passkey: str | None = None,
                 transaction_type: str | None = None, party_b: str | None = None, timeout: float | None = None):
        current = store.section("mpesa")
        self.base_url = (base_url or endpoint(current.environment)).rstrip("/")
        self.consumer_key = consumer_key or current.consumer_key
        self.consumer_secret = consumer_secret or current.consumer_secret
        self.shortcode = shortcode or current.shortcode
        self.passkey = passkey or current.passkey
        self.transaction_type = transaction_type or current.transaction_type
        # A till is paid at its own number (PartyB) while the store number signs the request.
        till = party_b if party_b is not None else current.party_b
        self.party_b = till if till and self.transaction_type == BUY_GOODS else self.shortcode
        self.timeout = timeout or settings.MPESA_TIMEOUT_SECONDS
        digest = _digest(self.base_url, self.consumer_key, self.consumer_secret)
        self._token_key, self._lock_key = TOKEN_KEY.format(digest=digest), LOCK_KEY.format(digest=digest)
        self._digest = digest

    # --- token ------------------------------------------------------------------------------------

    def token(self, *, replacing: str | None = None) -> str:
        """One token for every worker (a new token invalidates the old one at Daraja).

        ``replacing``: the token Daraja just refused. Any other cached token is newer and taken as
        it is, so workers refused at once don't each fetch one and void each other's."""
        cached = cache.get(self._token_key)
        if cached and cached != replacing:
            return cached
        for _ in range(50):
            if cache.add(self._lock_key, 1, timeout=15):  # one refresher; the others wait for its token
                try:
                    cached = cache.get(self._token_key)
                    if cached and cached != replacing:
                        return cached
                    return self._fetch_token()
                finally:
                    cache.delete(self._lock_key)
            time.sleep(0.1)
            cached = cache.get(self._token_key)
            if cached and cached != replacing:
                return cached
        raise DarajaError("Timed out waiting for another worker's token refresh", retryable=True)

    def _fetch_token(self) -> str:
        response = self._call("GET", "/oauth/v1/generate", params={"grant_type": "client_credentials"},
                              auth=(self.consumer_key, self.consumer_secret))
        token = response.get("access_token")
        if not token:
            raise DarajaError("Daraja answered without an access_token", retryable=True)
        try:
            lifetime = int(response.get("expires_in", 3599))
        except (TypeError, ValueError):
            lifetime = 3599
        ttl = max(60, lifetime - TOKEN_MARGIN_SECONDS)
        cache.set(self._token_key, token, timeout=ttl)
        cache.set(LAST_DIGEST_KEY, self._digest, timeout=ttl)
        return token

    def check_credentials(self) -> None:
        """Ask Daraja for a new token with these keys ("Test credentials"); DarajaError says why not.
        The token is kept as the one to use (a new token invalidates the old one at Daraja)."""
        self._fetch_token()

    # --- calls ------------------------------------------------------------------------------------

    def _password(self, now: datetime | None = None) -> tuple[str, str]:
        stamp = (now or datetime.now(tz=NAIROBI)).astimezone(NAIROBI).strftime("%Y%m%d%H%M%S")
        raw = f"{self.shortcode}{self.passkey}{stamp}".encode()
        return base64.b64encode(raw).decode(), stamp

    def stk_push(self, *, phone: str, amount: int, account_reference: str, description: str,
                 callback_url: str) -> StkPush:
        if not 1 <= int(amount) <= 250_000:
            raise DarajaError(f"Amount {amount} is outside 1..250,000", code="local", retryable=False)
        password, stamp = self._password()
        body = {
            "BusinessShortCode": self.shortcode, "Password": password, "Timestamp": stamp,
            "TransactionType": self.transaction_type, "Amount": int(amount), "PartyA": phone,
            "PartyB": self.party_b, "PhoneNumber": phone, "CallBackURL": callback_url,
            "AccountReference": account_reference[:12], "TransactionDesc": description[:13],
        }
        answer = self._authorised("POST", "/mpesa/stkpush/v1/processrequest", json=body)
        if str(answer.get("ResponseCode")) != "0":
            raise DarajaError(answer.get("ResponseDescription", "STK push refused"),
                              code=str(answer.get("ResponseCode")), retryable=False)
        return StkPush(answer["MerchantRequestID"], answer["CheckoutRequestID"],
                       answer.get("CustomerMessage", ""))

    def stk_query(self, checkout_request_id: str) -> StkResult:
        password, stamp = self._password()
        body = {"BusinessShortCode": self.shortcode, "Password": password, "Timestamp": stamp,
                "CheckoutRequestID": checkout_request_id}
        try:
            answer = self._authorised("POST", "/mpesa/stkpushquery/v1/query", json=body)
        except DarajaError as error:
            if error.code == PROCESSING:
                return StkResult(pending=True)
            raise
        try:
            code = int(answer["ResultCode"])
        except (KeyError, TypeError, ValueError):
            raise DarajaError(f"STK query answer without a ResultCode: {answer}"[:300], retryable=True) from None
        return StkResult(pending=False, result_code=code, result_desc=str(answer.get("ResultDesc", "")))

    def c2b_register(self, *, confirmation_url: str, validation_url: str, response_type: str = "Completed") -> dict:
        return self._authorised("POST", "/mpesa/c2b/v2/registerurl", json={
            "ShortCode": self.shortcode, "ResponseType": response_type,
            "ConfirmationURL": confirmation_url, "ValidationURL": validation_url})

    def _authorised(self, method: str, path: str, **kwargs) -> dict:
        token = self.token()
        try:
            return self._call(method, path, headers={"Authorization": f"Bearer {token}"}, **kwargs)
        except DarajaError as error:
            if error.code != "404.001.03":  # invalid token: someone got a newer one; once more
                raise
            fresh = self.token(replacing=token)
            return self._call(method, path, headers={"Authorization": f"Bearer {fresh}"}, **kwargs)

    def _call(self, method: str, path: str, **kwargs) -> dict:
        try:
            response = httpx.request(method, self.base_url + path, timeout=self.timeout, **kwargs)
        except httpx.TimeoutException as error:
            raise DarajaError(f"Daraja did not answer in {self.timeout} s", retryable=True,
                              reason="timeout") from error
        except httpx.HTTPError as error:
            raise DarajaError(f"Could not reach Daraja at {self.base_url}: {error}", retryable=True,
                              reason="unreachable") from error
        try:
            body = response.json()
        except ValueError:
            raise DarajaError(f"Daraja answered {response.status_code} with no JSON",
                              status=response.status_code, retryable=response.status_code >= 500) from None
        if not isinstance(body, dict):
            raise DarajaError(f"Daraja answered {response.status_code} with unexpected JSON",
                              status=response.status_code, retryable=response.status_code >= 500)
        if response.status_code >= 400 or "errorCode" in body:
            # {requestId, errorCode, errorMessage}; Safaricom's newer gateway refuses a token
            # request with {resultCode, resultDesc} instead ("999991" Invalid client id passed).
            code = str(body.get("errorCode") or body.get("resultCode") or "")
            said = body.get("errorMessage") or body.get("resultDesc") or f"HTTP {response.status_code}"
            raise DarajaError(str(said)[:300], code=code,
                              status=response.status_code,
                              retryable=code in RETRYABLE_CODES or response.status_code >= 500)
        return body


@receiver(store.saved)
def _keys_saved(sender, names=(), **kwargs) -> None:
    """New keys saved here: drop the previous keys' token at once (other processes stop using it
    as soon as they read the new keys, since the token is keyed by them)."""
    if sender.name != "mpesa" or not TOKEN_SETTINGS & set(names):
        return
    previous = cache.get(LAST_DIGEST_KEY)
    if previous and previous != Daraja()._digest:
        cache.delete_many([TOKEN_KEY.format(digest=previous), LAST_DIGEST_KEY])
