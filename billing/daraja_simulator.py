"""A Daraja stand-in speaking its HTTP API: OAuth, STK push, STK query, C2B register, and the
callbacks Safaricom posts, with the documented bodies. Told per phone number what happens:
success after N seconds, cancelled (1032), insufficient funds (1), unreachable (1037), callback
sent N times, callback lost (only the query knows), callback later than the query's answer; or
the same for the next request, whatever its phone (script_next).
Like Daraja it gives tokens to one app's consumer key and secret only (by default the quick
start's simulator-key / simulator-secret; others by argument, or DARAJA_SIMULATOR_CONSUMER_KEY /
DARAJA_SIMULATOR_CONSUMER_SECRET for manage.py run_daraja_simulator).
Used by the tests and the quick start (manage.py run_daraja_simulator)."""
import base64
import json
import random
import string
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import httpx

from lib.http_simulator import HttpSimulator

NAIROBI = ZoneInfo("Africa/Nairobi")
RESULTS = {0: "The service request is processed successfully.",
           1: "The balance is insufficient for the transaction.",
           1032: "Request cancelled by user", 1037: "DS timeout user cannot be reached"}


@dataclass
class Script:
    """What happens to an STK push for one phone number."""

    result_code: int = 0
    answer_after: float = 0.3   # when the customer "answers" (the query knows from then on)
    callback_after: float | None = None  # default: when answered; larger: after the query knows
    callbacks: int = 1          # 0: the callback is lost
    amount_paid: float | None = None  # what the callback reports (default: what was asked)


@dataclass
class Transaction:
    checkout_request_id: str
    merchant_request_id: str
    phone: str
    amount: int
    callback_url: str
    script: Script
    started: float
    receipt: str = ""
    callbacks_sent: int = 0
    body: dict = field(default_factory=dict)  # the push as posted (BusinessShortCode, PartyB, ...)


@dataclass
class DarajaSimulator(HttpSimulator):
    host: str = "127.0.0.1"
    port: int = 0
    consumer_key: str = "simulator-key"
    consumer_secret: str = "simulator-secret"
    default: Script = field(default_factory=Script)
    scripts: dict = field(default_factory=dict)
    transactions: dict = field(default_factory=dict)
    token_requests: int = 0  # tokens issued (to the configured key pair)
    refused_token_requests: int = 0  # token requests with another key pair
    tokens: set = field(default_factory=set)
    registered: dict = field(default_factory=dict)
    queued: list = field(default_factory=list)

    def script(self, phone: str, **behaviour) -> None:
        """What happens to every push to ``phone`` from now on."""
        self.scripts[phone] = Script(**behaviour)

    def script_next(self, **behaviour) -> None:
        """What happens to the next push, whatever its phone (queued in order; wins over ``script``)."""
        self.queued.append(Script(**behaviour))

    # --- the API ------------------------------------------------------------------------------

    def _handle(self, request, method: str) -> None:
        path = urlsplit(request.path)
        body = {}
        if method == "POST":
            raw = request.rfile.read(int(request.headers.get("Content-Length") or 0))
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                return self._answer(request, 400, {"errorCode": "400.002.02",
                                                   "errorMessage": "Bad Request - Invalid JSON"})
        routes = {
            ("GET", "/oauth/v1/generate"): self._token,
            ("POST", "/mpesa/stkpush/v1/processrequest"): self._stk_push,
            ("POST", "/mpesa/stkpushquery/v1/query"): self._stk_query,
            ("POST", "/mpesa/c2b/v2/registerurl"): self._register,
        }
        route = routes.get((method, path.path))
        if route is None:
            return self._answer(request, 404, {"errorCode": "404.001.01", "errorMessage": "Resource not found"})
        if path.path != "/oauth/v1/generate" and request.headers.get("Authorization", "")[7:] not in self.tokens:
            return self._answer(request, 404, {"errorCode": "404.001.03", "errorMessage": "Invalid Access Token"})
        status, answer = route(request, body, parse_qs(path.query))
        self._answer(request, status, answer)

    def _answer(self, request, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        request.send_response(status)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(data)))
        request.end_headers()
        request.wfile.write(data)

    def _token(self, request, body, query):
        # Only this app's key pair gets a token, as at Safaricom: another pair, or no Basic
        # authentication, is 400.008.01; a grant type other than client_credentials 400.008.02.
        expected = base64.b64encode(f"{self.consumer_key}:{self.consumer_secret}".encode()).decode()
        if request.headers.get("Authorization", "") != f"Basic {expected}":
            self.refused_token_requests += 1
            return 400, {"requestId": _id("req"), "errorCode": "400.008.01",
                         "errorMessage": "Invalid Authentication passed"}
        if query.get("grant_type") != ["client_credentials"]:
            return 400, {"requestId": _id("req"), "errorCode": "400.008.02",
                         "errorMessage": "Invalid grant type passed"}
        self.token_requests += 1
        token = "".join(random.choices(string.ascii_letters + string.digits, k=28))
        self.tokens = {token}  # a new token invalidates the old, as at Daraja
        return 200, {"access_token": token, "expires_in": "3599"}

    def _stk_push(self, request, body, query):
        try:
            amount, phone, callback = int(body["Amount"]), str(body["PhoneNumber"]), body["CallBackURL"]
            assert 1 <= amount <= 250_000 and phone.startswith("254") and len(phone) == 12
            assert body.get("Password") and body.get("Timestamp") and callback.startswith("http")
        except (KeyError, ValueError, AssertionError):
            return 400, {"requestId": _id("req"), "errorCode": "400.002.02",
                         "errorMessage": "Bad Request - Invalid field"}
        script = self.queued.pop(0) if self.queued else self.scripts.get(phone, self.default)
        transaction = Transaction(_id("ws_CO_"), _id("mr"), phone, amount, callback, script, time.monotonic(),
                                  body=body)
        self.transactions[transaction.checkout_request_id] = transaction
        delay = transaction.script.callback_after
        delay = transaction.script.answer_after if delay is None else delay
        threading.Timer(delay, self._send_callbacks, args=(transaction,)).start()
        return 200, {"MerchantRequestID": transaction.merchant_request_id,
                     "CheckoutRequestID": transaction.checkout_request_id, "ResponseCode": "0",
                     "ResponseDescription": "Success. Request accepted for processing",
                     "CustomerMessage": "Success. Request accepted for processing"}

    def _stk_query(self, request, body, query):
        transaction = self.transactions.get(body.get("CheckoutRequestID", ""))
        if transaction is None:
            return 500, {"requestId": _id("req"), "errorCode": "500.001.1001",
                         "errorMessage": "The transaction is being processed"}
        if time.monotonic() - transaction.started < transaction.script.answer_after:
            return 500, {"requestId": _id("req"), "errorCode": "500.001.1001",
                         "errorMessage": "The transaction is being processed"}
        code = transaction.script.result_code
        return 200, {"ResponseCode": "0", "ResponseDescription": "The service request has been accepted",
                     "MerchantRequestID": transaction.merchant_request_id,
                     "CheckoutRequestID": transaction.checkout_request_id, "ResultCode": str(code),
                     "ResultDesc": RESULTS.get(code, "Failed")}

    def _register(self, request, body, query):
        self.registered = {"confirmation": body.get("ConfirmationURL"), "validation": body.get("ValidationURL")}
        return 200, {"OriginatorCoversationID": _id("oc"), "ResponseCode": "0", "ResponseDescription": "Success"}

    # --- callbacks ----------------------------------------------------------------------------

    def callback_body(self, transaction: Transaction) -> dict:
        code = transaction.script.result_code
        callback = {"MerchantRequestID": transaction.merchant_request_id,
                    "CheckoutRequestID": transaction.checkout_request_id, "ResultCode": code,
                    "ResultDesc": RESULTS.get(code, "Failed")}
        if code == 0:
            if not transaction.receipt:
                transaction.receipt = "T" + "".join(random.choices(string.ascii_uppercase + string.digits, k=9))
            paid = transaction.script.amount_paid
            callback["CallbackMetadata"] = {"Item": [
                {"Name": "Amount", "Value": paid if paid is not None else float(transaction.amount)},
                {"Name": "MpesaReceiptNumber", "Value": transaction.receipt},
                {"Name": "Balance"},
                {"Name": "TransactionDate", "Value": int(datetime.now(tz=NAIROBI).strftime("%Y%m%d%H%M%S"))},
                {"Name": "PhoneNumber", "Value": int(transaction.phone)},
            ]}
        return {"Body": {"stkCallback": callback}}

    def _send_callbacks(self, transaction: Transaction) -> None:
        body = self.callback_body(transaction)
        senders = [threading.Thread(target=self._post, args=(transaction, body))
                   for _ in range(transaction.script.callbacks)]
        for sender in senders:
            sender.start()
        for sender in senders:
            sender.join()

    def _post(self, transaction: Transaction, body: dict) -> None:
        try:
            httpx.post(transaction.callback_url, json=body, timeout=10)
            transaction.callbacks_sent += 1
        except httpx.HTTPError:
            pass  # Safaricom does not retry a failed delivery either

    def c2b_payment(self, *, amount: float, bill_ref: str, msisdn: str = "2547 ***  *** 126",
                    first_name: str = "JOHN") -> dict:
        """Post a C2B confirmation (a customer paid to the paybill/till) to the registered URL."""
        body = {"TransactionType": "Pay Bill", "TransID": "T" + "".join(
            random.choices(string.ascii_uppercase + string.digits, k=9)),
            "TransTime": datetime.now(tz=NAIROBI).strftime("%Y%m%d%H%M%S"), "TransAmount": f"{amount:.2f}",
            "BusinessShortCode": "174379", "BillRefNumber": bill_ref, "InvoiceNumber": "",
            "OrgAccountBalance": "", "ThirdPartyTransID": "", "MSISDN": msisdn, "FirstName": first_name}
        if self.registered.get("confirmation"):
            httpx.post(self.registered["confirmation"], json=body, timeout=10)
        return body


def _id(prefix: str) -> str:
    return prefix + datetime.now(tz=NAIROBI).strftime("%d%m%Y%H%M%S") + "".join(random.choices(string.digits, k=8))
