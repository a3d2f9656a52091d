"""The whole API against its own OpenAPI: schemathesis sends generated requests (valid and invalid,
on any ids and on real objects at the simulators) to every operation as an admin; none may be a
5xx (but a declared 502/503), and every answer must match what its operation declares."""
import json
from decimal import Decimal

import jsonschema_rs
import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.core import NOT_SET
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from accounts import services
from accounts.roles import TECHNICIAN
from billing.models import Payment
from billing.payments import record_cash
from config.api import api
from hotspot.services import create_customer
from monitoring.models import TaskFailure
from monitoring.tickets.services import open_ticket
from routers.models import RouterService

from .routers_kit import make_router
from .staff_kit import bearer, make_custom_role
from .test_radius_pages import make_session

# Examples per operation and mode (deterministic): ~70 operations in well under a minute on two cores.
EXAMPLES = 6
ON_REAL_OBJECTS = 3
DISTURBING = ("/deactivate", "/reboot", "/restore", "/disconnect")


def not_a_server_error_but_a_declared_gateway(ctx, response, case):
    """No 5xx, except the 502/503 an operation declares for a router or M-Pesa that does not answer."""
    status = response.status_code
    if status >= 500 and not (status in (502, 503) and str(status) in case.operation.definition.raw["responses"]):
        raise AssertionError(f"Server error {status}: {response.text[:300]}")


CHECKS = [not_a_server_error_but_a_declared_gateway, status_code_conformance, response_schema_conformance]


def authorization(user) -> dict:
    raw, _ = services.issue_token(user)
    return {"Authorization": f"Bearer {raw}"}


@pytest.fixture
def wsgi_app(transactional_db):
    """The deployed WSGI application on the test's database: as Django's test client does, requests
    keep the test's connection open. Transactional, so one request's database error (a 500 the
    run must report) does not abort every request after it."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield get_wsgi_application()
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.fixture
def api_schema(wsgi_app, admin):
    # Loaded over HTTP with a bearer token, as a client would: the document itself is staff-only.
    return schemathesis.openapi.from_wsgi("/api/openapi.json", wsgi_app, headers=authorization(admin))


@pytest.fixture
def real_objects(api_schema, admin, daily, kilimani, mpesa, settings):
    """One of each object the paths name, on the simulators: routers at a RouterOS simulator, M-Pesa
    at the Daraja simulator, sessions at a NAS that does not answer (quickly, 1 s, one try)."""
    settings.RADIUS_COA_TIMEOUT, settings.RADIUS_COA_RETRIES = 1, 1
    customer = create_customer("0712000111", "Wanjiku")
    payment = record_cash(customer=customer, amount=Decimal("50.00"), by=admin, package=daily)
    router = make_router(kilimani)
    # A managed service on it, as router_services.add_service records one (ether1: the seed's router has no
    # default route, so its WAN is unknown; the operations only read the router's ports, never write them).
    service = RouterService.objects.create(router=router, kind="pppoe", name="pppoe1", managed=True,
                                           interfaces=["ether1"], network="10.6.0.0/24", on_router=False)
    return {"router_id": router.pk, "service_id": service.pk, "package_id": daily.pk, "customer_id": customer.pk,
            "payment_id": payment.pk, "session_id": make_session(7).pk,
            "role_id": make_custom_role("Cashiers", "billing.view_payment").pk, "section": "general",
            "failure_id": TaskFailure.objects.create(task_name="billing.tasks.reconcile_payments", args=["2026-11-30"],
                                                     exception="ValueError: refused").pk,
            "number": open_ticket(admin, "Paid but no internet", "payment", "high", customer=customer,
                                  payment=payment).number}


def real_bodies(objects) -> dict:
    """Bodies naming the real objects, for the operations that reach M-Pesa with them."""
    purchase = {"package_id": objects["package_id"], "phone": "0712000111"}
    return {"POST /api/purchase/mpesa/initiate": purchase, "POST /api/purchase/renew": purchase,
            "POST /api/payments": {"customer_id": objects["customer_id"], "amount": "20.00"},
            "POST /api/hotspot/vouchers/generate": {"package_id": objects["package_id"], "count": 2}}


def test_every_operation_answers_as_declared(api_schema, admin, real_objects, kilimani):
    # One test walking the operations (schemathesis' pytest parametrization does not run on pytest
    # 9): valid and invalid examples with any ids, then valid ones on the real objects, which reach
    # the simulators. Every operation's failure is collected, not just the first.
    bodies, runs = real_bodies(real_objects), []
    for result in api_schema.get_all_operations():
        operation = result.ok()
        named = {p.name for p in operation.path_parameters}
        runs += [(operation, mode, None, NOT_SET) for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)]
        if named and operation.method.upper() != "DELETE":  # a deleted object would end the others' pass
            runs.append((operation, GenerationMode.POSITIVE, {name: real_objects[name] for name in named}, NOT_SET))
        if operation.label in bodies:
            runs.append((operation, GenerationMode.POSITIVE, None, bodies[operation.label]))
    # The real objects first, before random calls use up the purchase limits or delete them (a
    # random id is often 1); what takes them out of service last: a PUT that moves the router to a
    # random port, a reboot, a deactivated package leave the others nothing but a 502 or 404.
    def order(run):
        operation, _, path_parameters, body = run
        if path_parameters is None and body is NOT_SET:
            return 1
        disturbs = operation.method.upper() == "PUT" or operation.path.endswith(DISTURBING)
        return 2 if disturbs else 0

    runs.sort(key=order)
    failures = []
    for operation, mode, path_parameters, body in runs:
        real = path_parameters is not None or body is not NOT_SET
        @given(operation.as_strategy(generation_mode=mode, path_parameters=path_parameters, body=body))
        @settings(max_examples=ON_REAL_OBJECTS if real else EXAMPLES, deadline=None,
                  database=None, derandomize=True, phases=[Phase.explicit, Phase.generate],
                  suppress_health_check=list(HealthCheck))
        def answers_as_declared(case):
            # A fresh token per request: POST /api/logout and /api/refresh revoke the one they
            # are sent with, and must not sign the rest of the run out.
            case.call_and_validate(headers=authorization(admin), checks=CHECKS)

        try:
            answers_as_declared()
        except Unsatisfiable:  # nothing to make invalid: no parameters and no body
            assert mode == GenerationMode.NEGATIVE, operation.label
        except (Exception, BaseExceptionGroup) as failure:  # every operation's failure is reported
            where = f" on {path_parameters or body}" if real else ""
            failures.append(f"{operation.label} ({mode.value}{where}): {failure}")
    assert not failures, "\n\n".join(failures)
    # The real-object passes did reach the simulators, not only 404s.
    assert kilimani.logins > 0
    assert Payment.objects.exclude(checkout_request_id=None).exclude(checkout_request_id="").exists()


# --- what the run found, pinned ------------------------------------------------------------------

LISTS = ["/api/payments", "/api/logs/payments", "/api/hotspot/sessions", "/api/logs/sessions", "/api/users",
         "/api/hotspot/users", "/api/hotspot/vouchers", "/api/routers", "/api/queue/failed"]


def test_the_openapi_document_takes_a_bearer_token_or_a_session(client, signed_in, admin, technician):
    assert client.get("/api/openapi.json").status_code == 401
    assert client.get("/api/openapi.json", HTTP_AUTHORIZATION="Bearer not-a-token").status_code == 401
    for user in (admin, technician):
        assert client.get("/api/openapi.json", **bearer(user)).status_code == 200
    assert signed_in(TECHNICIAN).get("/api/openapi.json").status_code == 200


@pytest.mark.parametrize("path", LISTS)
def test_an_offset_beyond_bigint_is_a_422_on_every_list(client, admin, path):
    for offset in (2**63, 10**30, 1_000_000_001):
        answer = client.get(f"{path}?offset={offset}", **bearer(admin))
        assert answer.status_code == 422 and answer.json() == {"detail": "offset must be at most 1000000000"}
    assert client.get(f"{path}?offset=1000000000", **bearer(admin)).json()["results"] == []


@pytest.mark.parametrize("path", ["/api/payments", "/api/logs/payments", "/api/logs/sessions"])
def test_any_iso_offset_is_compared_in_utc(client, admin, path):
    # PostgreSQL refuses offsets beyond ±15:59; +16:46 was a 500.
    answer = client.get(path, {"since": "2025-07-15T08:31:02+16:46", "until": "2651-01-01T00:00:00-23:59"},
                        **bearer(admin))
    assert answer.status_code == 200
    assert client.get(path, {"since": "0001-01-01T00:00:00+05:00"}, **bearer(admin)).status_code == 422


def declared(answer, method: str, path: str) -> dict:
    """The answer's body checked against the schema its operation declares for its status."""
    document = api.get_openapi_schema()
    response = document["paths"][path][method]["responses"][answer.status_code]
    schema = {**response["content"]["application/json"]["schema"], "components": document["components"]}
    jsonschema_rs.validator_for(json.loads(json.dumps(schema, default=str))).validate(answer.json())
    return answer.json()


def test_the_refusals_the_attack_run_found_undeclared_now_match_their_schema(client, admin):
    headers = bearer(admin)
    invalid = client.post("/api/users", {"phone": 7}, content_type="application/json", **headers)
    assert invalid.status_code == 422 and declared(invalid, "post", "/api/users")["errors"]
    bad_phone = client.post("/api/users", {"phone": "12"}, content_type="application/json", **headers)
    assert bad_phone.status_code == 422 and declared(bad_phone, "post", "/api/users")["detail"]
    for path in ("/api/purchase/mpesa/initiate", "/api/purchase/renew", "/api/purchase/package"):
        answer = client.post(path, {"phone": ["x"]}, content_type="application/json")
        assert answer.status_code == 422 and declared(answer, "post", path)["errors"]
    ended = make_session(1, open=False)
    answer = client.post(f"/api/hotspot/sessions/{ended.pk}/disconnect", **headers)
    assert answer.status_code == 409
    assert declared(answer, "post", "/api/hotspot/sessions/{session_id}/disconnect") == {
        "detail": "This session has already ended"}


def test_a_phone_already_taken_is_a_declared_409(client, admin):
    headers = bearer(admin)
    create_customer("0712000111", "Wanjiku")
    other = create_customer("0712000222", "Otieno")
    again = client.post("/api/hotspot/users", {"phone": "0712000111"}, content_type="application/json", **headers)
    assert again.status_code == 409 and declared(again, "post", "/api/hotspot/users")["detail"]
    taken = client.put(f"/api/users/{other.pk}", {"phone": "0712000111"}, content_type="application/json", **headers)
    assert taken.status_code == 409 and declared(taken, "put", "/api/users/{customer_id}")["detail"]


def test_operation_ids_are_the_function_names_and_unique():
    """A generated client names its methods after operationIds: they must not repeat, and they must
    not change when a module moves (they are the function's name, not its module path)."""
    ids = [op["operationId"] for methods in api.get_openapi_schema()["paths"].values() for op in methods.values()]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    assert {"list_payments", "list_routers", "open_sessions", "session_log"} <= set(ids)
