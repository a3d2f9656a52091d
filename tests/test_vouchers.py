"""Vouchers: generated hard to guess, printed and exported, redeemed exactly once."""
import csv
import io
import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connections
from django.test import override_settings
from django.utils import timezone

from accounts.roles import FINANCE, SUPPORT
from hotspot import services, vouchers
from hotspot.models import Package, Subscription, Voucher, VoucherBatch
from radius import services as radius
from siteconfig import store

from .radius_server import accepted, reply_value
from .staff_kit import bearer


def daily():
    return services.save_package(Package(name="Daily", price=50, validity_minutes=1440, rate_limit="2M/5M"))


@pytest.mark.django_db
def test_a_batch_has_unique_unambiguous_codes():
    batch = vouchers.generate_batch(daily(), 500, prefix="kt")
    codes = list(batch.vouchers.values_list("code", flat=True))
    assert len(codes) == len(set(codes)) == 500
    # The random part: 8 characters by default (vouchers.code_length), none of 0/O, 1/I/L.
    assert all(c.startswith("KT") and len(c) == 10 and set(c[2:]) <= set(vouchers.ALPHABET) for c in codes)
    assert not set("01OIL") & set("".join(c[2:] for c in codes))


@pytest.mark.django_db
def test_the_prefix_is_the_operators_label_kept_whole():
    # L, O and 0 are not in the random part's alphabet, but the prefix is the operator's own label.
    for typed, kept in (("KLM", "KLM"), ("klm", "KLM"), ("OLI0", "OLI0"), ("A1B2C3", "A1B2C3")):
        batch = vouchers.generate_batch(daily() if not Package.objects.exists() else Package.objects.get(), 2,
                                        prefix=typed)
        assert batch.prefix == kept
        code = batch.vouchers.first().code
        assert code.startswith(kept) and len(code) == len(kept) + 8
        assert vouchers.display(code, kept).startswith(f"{kept}-")
    for refused in ("K-M", "KL M", "KLMÄ", "١٢٣", "KLMNOPQ"):
        with pytest.raises(ValueError, match="letters"):
            vouchers.generate_batch(Package.objects.get(), 2, prefix=refused)


@pytest.mark.django_db
def test_the_form_says_what_a_prefix_may_hold(signed_in):
    client = signed_in(SUPPORT)
    refused = client.post("/vouchers/", {"package": daily().pk, "count": "5", "prefix": "K-M", "valid_days": "30"})
    assert refused.status_code == 200
    assert refused.context["form"].errors["prefix"] == [vouchers.PREFIX_RULE]
    assert not VoucherBatch.objects.exists()
    made = client.post("/vouchers/", {"package": Package.objects.get().pk, "count": "5", "prefix": "KLM",
                                      "valid_days": "30"})
    assert made.status_code == 302 and VoucherBatch.objects.get().prefix == "KLM"


@pytest.mark.django_db
def test_the_api_names_a_bad_prefix(client, support_agent):
    refused = client.post("/api/hotspot/vouchers/generate", {"package_id": daily().pk, "count": 5, "prefix": "K M"},
                          content_type="application/json", **bearer(support_agent))
    assert refused.status_code == 422 and "prefix" in str(refused.json())
    assert not VoucherBatch.objects.exists()


@pytest.mark.django_db
def test_the_code_length_is_a_setting():
    store.save("vouchers", {"code_length": 12})
    batch = vouchers.generate_batch(daily(), 3, prefix="KLM")
    assert {len(code) for code in batch.vouchers.values_list("code", flat=True)} == {15}
    assert not store.form("vouchers", data={"code_length": "5", "wifi_name": ""}).is_valid()


@pytest.mark.django_db
def test_batches_are_limited_to_5000():
    with pytest.raises(ValueError):
        vouchers.generate_batch(daily(), 5001)
    assert vouchers.generate_batch(Package.objects.get(), 5000).vouchers.count() == 5000


@pytest.mark.django_db
def test_redeeming_gives_access_once_and_says_why_not_afterwards():
    batch = vouchers.generate_batch(daily(), 3)
    first, second, third = batch.vouchers.all()
    sub = vouchers.redeem(vouchers.display(first.code).lower(), mac="AA:BB:CC:DD:EE:01")
    assert sub.status == Subscription.Status.ACTIVE and radius.has_access(first.code.lower())
    with pytest.raises(vouchers.VoucherError) as used:
        vouchers.redeem(first.code)
    assert used.value.reason == "used"
    vouchers.revoke(second)
    with pytest.raises(vouchers.VoucherError) as revoked:
        vouchers.redeem(second.code)
    assert revoked.value.reason == "revoked"
    batch.valid_until = timezone.now() - timedelta(seconds=1)
    batch.save()
    with pytest.raises(vouchers.VoucherError) as expired:
        vouchers.redeem(third.code)
    assert expired.value.reason == "expired"
    with pytest.raises(vouchers.VoucherError) as unknown:
        vouchers.redeem("NOSUCHCODE")
    assert unknown.value.reason == "unknown"


@pytest.mark.django_db(transaction=True)
def test_twenty_redemptions_at_once_make_one_subscription():
    code = vouchers.generate_batch(daily(), 1).vouchers.get().code
    outcomes, barrier = [], threading.Barrier(20)

    def attempt():
        barrier.wait()
        try:
            vouchers.redeem(code)
            outcomes.append("won")
        except vouchers.VoucherError as refused:
            outcomes.append(refused.reason)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert outcomes.count("won") == 1 and outcomes.count("used") == 19
    assert Subscription.objects.count() == 1


@pytest.mark.django_db
def test_support_generates_prints_and_exports(signed_in):
    package = daily()
    client = signed_in(SUPPORT)
    store.save("general", {"business_name": "Kilimani WiFi"})
    response = client.post("/vouchers/", {"package": package.pk, "count": "30", "prefix": "", "valid_days": "30"})
    batch = Voucher.objects.first().batch
    assert response.status_code == 302 and response.url == f"/vouchers/batches/{batch.pk}/"
    sheet = client.get(f"/vouchers/batches/{batch.pk}/sheet/").content.decode()
    assert sheet.count("<svg") == 30 and "KES 50" in sheet and "@page { size: A4" in sheet
    # Which WiFi to join and whose it is: the WiFi name defaults to the business name.
    assert sheet.count("<b>Kilimani WiFi</b>") == 30 and "WiFi: <strong>Kilimani WiFi</strong>" in sheet
    store.save("vouchers", {"wifi_name": "KILIMANI-FREE"})
    assert "WiFi: <strong>KILIMANI-FREE</strong>" in client.get(f"/vouchers/batches/{batch.pk}/sheet/").content.decode()
    assert "http://testserver/portal/?voucher=" not in sheet  # the URL is inside the QR image, not text
    rows = list(csv.DictReader(io.StringIO(client.get(f"/vouchers/batches/{batch.pk}/csv/").content.decode())))
    assert len(rows) == 30 and rows[0]["package"] == "Daily" and rows[0]["status"] == "unused"
    listing = client.get(f"/vouchers/batches/{batch.pk}/").content.decode()
    assert vouchers.display(batch.vouchers.first().code) in listing


@pytest.mark.django_db
@override_settings(TIME_ZONE="Africa/Nairobi")
def test_the_csv_gives_times_in_the_business_zone_to_the_minute(signed_in):
    batch = vouchers.generate_batch(daily(), 2, prefix="KLM")
    moment = datetime(2026, 11, 30, 21, 5, 42, 123456, tzinfo=UTC)  # 00:05 on 1 Dec in Nairobi
    VoucherBatch.objects.filter(pk=batch.pk).update(valid_until=moment + timedelta(days=90))
    first = batch.vouchers.order_by("code").first()
    vouchers.redeem(first.code, now=moment)
    body = signed_in(SUPPORT).get(f"/vouchers/batches/{batch.pk}/csv/").content.decode()
    rows = {row["code"]: row for row in csv.DictReader(io.StringIO(body))}
    redeemed = rows[vouchers.display(first.code, "KLM")]
    assert redeemed["redeemed_at"] == "2026-12-01 00:05" and redeemed["valid_until"] == "2027-03-01 00:05"
    assert all(row["redeemed_at"] == "" for code, row in rows.items() if code != vouchers.display(first.code, "KLM"))


@pytest.mark.django_db
def test_finance_sees_vouchers_but_makes_and_cancels_none(signed_in):
    batch = vouchers.generate_batch(daily(), 2)
    client = signed_in(FINANCE)
    page = client.get("/vouchers/").content.decode()
    assert "Generate" not in page and f"/vouchers/batches/{batch.pk}/" in page
    assert client.get(f"/vouchers/batches/{batch.pk}/csv/").status_code == 200
    made = client.post("/vouchers/", {"package": Package.objects.get().pk, "count": "5", "valid_days": "30"})
    assert made.status_code == 403 and VoucherBatch.objects.count() == 1
    assert client.post(f"/vouchers/{batch.vouchers.first().pk}/revoke/").status_code == 403


@pytest.mark.django_db
def test_cancelling_a_voucher_asks_first(signed_in):
    batch = vouchers.generate_batch(daily(), 2, prefix="KLM")
    voucher = batch.vouchers.first()
    client = signed_in(SUPPORT)
    asked = client.get(f"/vouchers/{voucher.pk}/revoke/").content.decode()
    assert f"Cancel voucher {vouchers.display(voucher.code, 'KLM')}?" in asked
    assert f'action="/vouchers/{voucher.pk}/revoke/"' in asked and 'method="post"' in asked
    voucher.refresh_from_db()
    assert voucher.status == "unused"  # asking changes nothing
    client.post(f"/vouchers/{voucher.pk}/revoke/")
    voucher.refresh_from_db()
    assert voucher.status == "revoked"


@pytest.mark.django_db
def test_the_batches_take_the_same_queries_for_2_or_40_batches(signed_in, django_assert_num_queries):
    package = daily()
    client = signed_in(SUPPORT)
    for batches in (2, 40):  # 40 is two pages of 30
        while VoucherBatch.objects.count() < batches:
            vouchers.generate_batch(package, 2, note=f"Batch {VoucherBatch.objects.count()}")
        with django_assert_num_queries(11):
            html = client.get("/vouchers/").content.decode()
        assert f"Batch {batches - 1}<" in html and ("Page 1 of 2" in html) == (batches > 30)


@pytest.mark.django_db
def test_a_batch_takes_the_same_queries_for_2_or_40_codes(signed_in, django_assert_num_queries):
    package = daily()
    client = signed_in(SUPPORT)
    for codes in (2, 40):
        batch = vouchers.generate_batch(package, codes)
        with django_assert_num_queries(11):
            html = client.get(f"/vouchers/batches/{batch.pk}/").content.decode()
        assert html.count('/revoke/">Cancel</a>') == codes  # each unused code can be cancelled (asks first)


@pytest.mark.django_db
def test_generating_needs_a_valid_form(signed_in):
    client = signed_in(SUPPORT)
    response = client.post("/vouchers/", {"package": daily().pk, "count": "6000", "valid_days": "30"})
    assert response.status_code == 200 and "count" in response.context["form"].errors


@pytest.mark.django_db
def test_the_api_generates_lists_and_redeems(client, support_agent):
    package = daily()
    made = client.post("/api/hotspot/vouchers/generate", {"package_id": package.pk, "count": 5},
                       content_type="application/json", **bearer(support_agent))
    assert made.status_code == 201 and len(made.json()["codes"]) == 5
    listed = client.get("/api/hotspot/vouchers?status=unused", **bearer(support_agent)).json()
    assert listed["count"] == 5 and listed["results"][0]["package"] == "Daily"
    code = made.json()["codes"][0]
    redeemed = client.post("/api/portal/voucher", {"code": code, "mac": "aa:bb:cc:dd:ee:02", "ip": "10.5.0.9"},
                           content_type="application/json")
    assert redeemed.status_code == 200
    assert redeemed.json()["username"] == code.lower() and redeemed.json()["package"] == "Daily"
    again = client.post("/api/portal/voucher", {"code": code}, content_type="application/json")
    assert again.status_code == 409 and again.json()["reason"] == "used"
    unknown = client.post("/api/portal/voucher", {"code": "WRONG"}, content_type="application/json")
    assert unknown.status_code == 404 and unknown.json()["reason"] == "unknown"


@pytest.mark.django_db
@override_settings(PORTAL_VOUCHER_FAILURES_PER_IP=3)
def test_guessing_codes_is_slowed_per_address_whatever_mac_the_form_claims(client):
    for n in range(4):  # the budget, then the one attempt of the slowed pace
        client.post("/api/portal/voucher", {"code": f"GUESS{n}", "mac": f"AA-BB-CC-DD-EE-0{n}"},
                    content_type="application/json", REMOTE_ADDR="10.5.0.50")
    slowed = client.post("/api/portal/voucher", {"code": "GUESS9", "mac": "AA-BB-CC-DD-EE-09"},
                         content_type="application/json", REMOTE_ADDR="10.5.0.50")
    assert slowed.status_code == 429 and 1 <= int(slowed["Retry-After"]) <= 30
    # A MAC is the client's claim: typing another device's MAC elsewhere locks nobody out.
    elsewhere = client.post("/api/portal/voucher", {"code": "GUESS9", "mac": "AA-BB-CC-DD-EE-00"},
                            content_type="application/json", REMOTE_ADDR="10.5.0.51")
    assert elsewhere.status_code == 404


@pytest.mark.django_db(transaction=True)
def test_a_voucher_redeemed_in_the_portal_logs_in_through_freeradius(radius_server, client):
    code = vouchers.generate_batch(daily(), 1).vouchers.get().code
    page = client.post("/portal/voucher/", {"code": code, "link_login_only": "http://10.5.50.1/login"})
    assert page.status_code == 200 and f'name="username" value="{code.lower()}"' in page.content.decode()
    reply = radius_server.authenticate(code.lower(), code.lower(), chap=True)
    assert accepted(reply) and reply_value(reply, "Mikrotik-Rate-Limit") == "2M/5M"
