"""Samuel in support answers "I paid": he sees that customer's own payments from the customer's page,
and nothing of the money beyond them (all payments, exports, the M-Pesa log and settings are Finance's)."""
from decimal import Decimal

import pytest

from accounts.roles import SUPPORT
from billing.models import Payment
from hotspot import services

pytestmark = pytest.mark.django_db
Status = Payment.Status
# Session, user, groups, permissions, the customer, the count of payments (for the pages), the page of
# them with package and invoice, navigation: the same for any number of payments.
QUERIES = 11


def paid(customer, receipt, status=Status.COMPLETED, **fields):
    return Payment.objects.create(customer=customer, phone=customer.phone, amount=Decimal("50"),
                                  method=Payment.Method.MPESA_STK, status=status, mpesa_receipt=receipt, **fields)


def test_support_answers_i_paid_from_the_customers_page(signed_in):
    wanjiru = services.create_customer("0712 000 001", name="Wanjiru")
    otieno = services.create_customer("0712 000 002", name="Otieno")
    paid(wanjiru, "TAB111AAA1")
    paid(wanjiru, "", status=Status.FAILED, result_desc="The balance is insufficient for the transaction.")
    Payment.objects.create(phone=wanjiru.phone, amount=Decimal("20"), method=Payment.Method.MPESA_STK,
                           status=Status.PENDING, checkout_request_id="ws_CO_NOTYET")  # not tied to her yet
    paid(otieno, "TAB222BBB2")
    client = signed_in(SUPPORT)
    assert f"/customers/{wanjiru.pk}/payments/" in client.get(f"/customers/{wanjiru.pk}/").content.decode()
    html = client.get(f"/customers/{wanjiru.pk}/payments/").content.decode()
    assert "TAB111AAA1" in html and "balance is insufficient" in html and ">20.00</td>" in html
    assert "TAB222BBB2" not in html
    for page in ("/payments/", "/payments/export.csv", "/payments/methods/", "/payments/mpesa/"):
        assert client.get(page).status_code == 403, page
    assert client.get("/customers/999999/payments/").status_code == 404


@pytest.mark.parametrize("count", [2, 40])
def test_the_customers_payments_page_costs_the_same_queries_for_two_or_forty(signed_in, count,
                                                                            django_assert_num_queries):
    wanjiru = services.create_customer("0712 000 003", name="Wanjiru")
    for n in range(count):
        paid(wanjiru, f"TQC{n:07d}")
    client = signed_in(SUPPORT)
    with django_assert_num_queries(QUERIES):
        assert client.get(f"/customers/{wanjiru.pk}/payments/").status_code == 200
