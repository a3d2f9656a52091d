"""The M-Pesa Daraja adapter (httpx): OAuth token shared by all workers, STK push, STK query, C2B
URL registration. Errors are typed: ``retryable`` says whether trying again later may succeed.
Facts from shared/REFERENCE.md (M-Pesa Daraja).
"""
import base64
import time
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import httpx
from django.conf import settings

# The token survives a Redis outage in process memory: buying must not need Redis.
from lib.shared_cache import cache

NAIROBI = ZoneInfo("Africa/Nairobi")
TOKEN_KEY = "daraja:token"
LOCK_KEY = "daraja:token-lock"
# Refresh a little before Daraja's expiry so no request carries a token that dies in flight.
TOKEN_MARGIN_SECONDS = 120
PROCESSING = "500.001.1001"  # STK query while the customer hasn't answered; also "wrong credentials"
RETRYABLE_CODES = {PROCESSING, "500.003.02", "500.003.03", "404.001.03"}


class DarajaError(Exception):
    def __init__(self, message: str, *, code: str = "", retryable: bool = False, status: int | None = None):
        super().__init__(message)
        self.code, self.retryable, self.status = code, retryable, status


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


class Daraja:
    def __init__(self, *, base_url: str | None = None, consumer_key: str | None = None,
                 consumer_secret: str | None = None, shortcode: str | None = None, passkey: str | None = None,
                 transaction_type: str | None = None, timeout: float | None = None):
        self.base_url = (base_url or settings.MPESA_BASE_URL).rstrip("/")
        self.consumer_key = consumer_key or settings.MPESA_CONSUMER_KEY
        self.consumer_secret = consumer_secret or settings.MPESA_CONSUMER_SECRET
        self.shortcode = shortcode or settings.MPESA_SHORTCODE
        self.passkey = passkey or settings.MPESA_PASSKEY
        self.transaction_type = transaction_type or settings.MPESA_TRANSACTION_TYPE
        self.timeout = timeout or settings.MPESA_TIMEOUT_SECONDS

    # --- token ------------------------------------------------------------------------------------

    def token(self, *, replacing: str | None = None) -> str:
        """One token for every worker (a new token invalidates the old one at Daraja).

        ``replacing``: the token Daraja just refused. Any other cached token is newer and taken as
        it is, so workers refused at once don't each fetch one and void each other's."""
        cached = cache.get(TOKEN_KEY)
        if cached and cached != replacing:
            return cached
        for _ in range(50):
            if cache.add(LOCK_KEY, 1, timeout=15):  # one refresher; the others wait for its token
                try:
                    cached = cache.get(TOKEN_KEY)
                    if cached and cached != replacing:
                        return cached
                    return self._fetch_token()
                finally:
                    cache.delete(LOCK_KEY)
            time.sleep(0.1)
            cached = cache.get(TOKEN_KEY)
            if cached and cached != replacing:
                return cached
        raise DarajaError("Timed out waiting for another worker's token refresh", retryable=True)

    def _fetch_token(self) -> str:
        response = self._call("GET", "/oauth/v1/generate", params={"grant_type": "client_credentials"},
                              auth=(self.consumer_key, self.consumer_secret))
        token = response.get("access_token")
        if not token:
            raise DarajaError("Daraja answered without an access_token", retryable=True)
        ttl = max(60, int(response.get("expires_in", 3599)) - TOKEN_MARGIN_SECONDS)
        cache.set(TOKEN_KEY, token, timeout=ttl)
        return token

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
            "PartyB": self.shortcode, "PhoneNumber": phone, "CallBackURL": callback_url,
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
            raise DarajaError(f"Daraja did not answer in {self.timeout} s", retryable=True) from error
        except httpx.HTTPError as error:
            raise DarajaError(f"Could not reach Daraja: {error}", retryable=True) from error
        try:
            body = response.json()
        except ValueError:
            raise DarajaError(f"Daraja answered {response.status_code} with no JSON",
                              status=response.status_code, retryable=response.status_code >= 500) from None
        if response.status_code >= 400 or "errorCode" in body:
            code = str(body.get("errorCode", ""))
            raise DarajaError(body.get("errorMessage", f"HTTP {response.status_code}"), code=code,
                              status=response.status_code,
                              retryable=code in RETRYABLE_CODES or response.status_code >= 500)
        return body
