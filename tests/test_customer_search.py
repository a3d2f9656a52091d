"""Issue 23: the customer search (hotspot's CustomerQuerySet.search, which the payment, invoice and
wallet searches run first) can answer from indexes instead of scanning every customer: a part of a
name from UPPER(name)'s trigram index (Django's icontains on PostgreSQL), a run of a phone's digits
from the phone's, a whole phone or a username from their unique indexes; /customers/' order from
created_at's. Sequential scans are turned off so that a few rows show which index each can use."""
import pytest
from django.db import connection

from billing.models import Payment
from hotspot import services
from hotspot.models import Customer

pytestmark = [pytest.mark.django_db,
              pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's planner")]


@pytest.fixture
def customers(db):
    return [services.create_customer("0712 000 111", name="Wanjiru Kamau"),
            services.create_customer("0722 000 222", name="Otieno Odhiambo")]


def _plan(rows) -> str:
    sql, params = rows.query.get_compiler(rows.db).as_sql()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(line for (line,) in cursor.fetchall())


@pytest.mark.parametrize("q, indexes", [
    # the username's equality: its unique index or the LIKE-pattern one Django adds beside it
    ("kamau", {"hotspot_customer_name_trgm", "hotspot_customer_username"}),
    ("712 000", {"hotspot_customer_name_trgm", "hotspot_customer_username", "hotspot_customer_phone_trgm"}),
    ("0712 000 111", {"hotspot_customer_name_trgm", "hotspot_customer_username", "hotspot_customer_phone"}),
    ("aa:bb:cc:00:11:22", {"hotspot_customer_last_mac"}),
])
def test_each_arm_of_the_search_uses_an_index(customers, q, indexes):
    # unordered: at two rows walking created_at's index and filtering is cheaper, at 100,000 it is not
    plan = _plan(Customer.objects.search(q).order_by().values_list("pk", flat=True))
    assert "Seq Scan" not in plan, plan
    assert all(index in plan for index in indexes), plan


def test_the_search_still_finds_its_customers_and_their_payments(customers):
    wanjiru, otieno = customers
    assert list(Customer.objects.search("KAMAU")) == [wanjiru]
    assert list(Customer.objects.search("722 000")) == [otieno]
    assert list(Customer.objects.search("+254712000111")) == [wanjiru]
    assert list(Customer.objects.search(wanjiru.username)) == [wanjiru]
    Payment.objects.create(customer=otieno, phone=otieno.phone, amount=50)
    assert [p.customer for p in Payment.objects.search("odhiambo")] == [otieno]


def test_a_mac_in_any_spelling_finds_the_customer_who_last_came_from_it(customers):
    wanjiru, otieno = customers
    services.seen(wanjiru, mac="aa:bb:cc:00:11:22")  # as a client may send it: kept in capitals
    services.seen(otieno, mac="AA-BB-CC-00-11-33")  # as the portal spells it
    for typed in ("AA:BB:CC:00:11:22", "aa-bb-cc-00-11-22", "aabb.cc00.1122", "AABBCC001122"):
        assert list(Customer.objects.search(typed)) == [wanjiru], typed
    assert list(Customer.objects.search("aa:bb:cc:00:11:33")) == [otieno]
    # A MAC's digits are not searched among the phones, nor is a twelve-digit phone taken for a MAC.
    assert list(Customer.objects.search("07:12:00:01:11:00")) == []
    assert list(Customer.objects.search("254712000111")) == [wanjiru]
    Payment.objects.create(customer=otieno, phone=otieno.phone, amount=50)
    assert [p.customer for p in Payment.objects.search("AA-BB-CC-00-11-33")] == [otieno]


def test_the_customer_list_is_walked_in_its_order_by_an_index(customers):
    plan = _plan(Customer.objects.order_by("-created_at")[:50])
    assert "Index Scan Backward using hotspot_customer_created_at" in plan, plan
