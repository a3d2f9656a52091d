"""The top bar's search: the support desk types what the customer on the phone gives them."""
import pytest

from billing.models import Payment
from hotspot import services, vouchers
from hotspot.models import Customer, Package


@pytest.fixture
def wanjiru(db):
    return Customer.objects.create(phone="254712345678", name="Wanjiru Kamau", username="wk7h3")


@pytest.mark.django_db
@pytest.mark.parametrize("q", ["0712 345 678", "+254712345678", "712345678", "wk7h3", "Wanjiru"])
def test_one_customer_found_opens_their_page(signed_in, wanjiru, q):
    answer = signed_in("Support").get("/search/", {"q": q})
    assert answer.status_code == 302 and answer["Location"] == f"/customers/{wanjiru.pk}/"


@pytest.mark.django_db
def test_an_mpesa_receipt_finds_the_payer(signed_in, wanjiru):
    Payment.objects.create(customer=wanjiru, phone=wanjiru.phone, amount=50, mpesa_receipt="SGR7ABC123",
                           status=Payment.Status.COMPLETED)
    answer = signed_in("Support").get("/search/", {"q": "sgr7abc123"})
    assert answer["Location"] == f"/customers/{wanjiru.pk}/"


@pytest.mark.django_db
def test_several_matches_are_listed_and_nothing_found_says_so(signed_in, wanjiru):
    Customer.objects.create(phone="254712000001", name="Wanjiru Otieno")
    client = signed_in("Finance")
    page = client.get("/search/", {"q": "wanjiru"}).content.decode()
    assert "Wanjiru Kamau" in page and "Wanjiru Otieno" in page
    page = client.get("/search/", {"q": "nobody\u00e9"}).content.decode()
    assert "Nothing matches" in page
    assert client.get("/search/", {"q": "x" * 5000}).status_code == 200


@pytest.mark.django_db
def test_the_box_is_in_the_top_bar_only_for_who_may_search(signed_in):
    assert 'role="search"' in signed_in("Support").get("/").content.decode()
    assert 'role="search"' not in signed_in("Technician").get("/").content.decode()


@pytest.mark.django_db
def test_a_voucher_code_as_printed_finds_who_redeemed_it(signed_in):
    package = services.save_package(Package(name="Daily", price=50, validity_minutes=1440))
    code = vouchers.generate_batch(package, 1, prefix="KLM2").vouchers.get().code
    customer = vouchers.redeem(code).customer
    printed = vouchers.display(code, "KLM2").lower()  # klm2-xxxx-xxxx, as a caller reads it out
    answer = signed_in("Support").get("/search/", {"q": printed})
    assert answer["Location"] == f"/customers/{customer.pk}/"


@pytest.mark.django_db
def test_an_exact_identifier_wins_over_phone_numbers_holding_its_digits(signed_in, wanjiru):
    """'wk7h3' has one digit, but a username like 'nafula41668' or a receipt 'SM0AE140B8' has runs of
    digits that thousands of phone numbers hold: the exact match is the answer."""
    nafula = Customer.objects.create(phone="254700000001", name="Nafula Chege", username="nafula41668")
    otieno = Customer.objects.create(phone="254741668000", name="Otieno")
    Customer.objects.create(phone="254714080000", name="Achieng")
    Payment.objects.create(customer=wanjiru, phone=wanjiru.phone, amount=50, mpesa_receipt="SM0AE140B8",
                           status=Payment.Status.COMPLETED)
    client = signed_in("Support")
    assert client.get("/search/", {"q": "nafula41668"})["Location"] == f"/customers/{nafula.pk}/"
    assert client.get("/search/", {"q": "SM0AE140B8"})["Location"] == f"/customers/{wanjiru.pk}/"
    # No identifier matches: part of a phone number still finds its holder.
    assert client.get("/search/", {"q": "41668"})["Location"] == f"/customers/{otieno.pk}/"
