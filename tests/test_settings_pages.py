"""The Settings pages and /api/settings: Admin reads and changes every section, Finance reads the money
ones, nobody else gets in; each field says where its value comes from; bad input is a form error or a
422 naming the field, never a 500; a secret never comes back out."""
import pytest
from django.urls import reverse
from django.utils.html import escape

from accounts.roles import ADMIN, FINANCE, SUPPORT, TECHNICIAN
from audit.models import Entry
from siteconfig import store
from siteconfig.sections import SECTIONS

from .settings_kit import page_data, save_page
from .staff_kit import bearer

pytestmark = pytest.mark.django_db
SECRET = "daraja-secret-7Qx9-never-shown"


# --- who gets in ----------------------------------------------------------------------------------


def test_admin_sees_every_section_with_what_is_saved_and_what_comes_from_the_environment(signed_in):
    store.save("general", {"business_name": "Kilimani Net"})
    page = signed_in(ADMIN).get("/settings/")
    assert page.status_code == 200
    body = page.content.decode()
    for declared in SECTIONS.values():
        assert reverse("settings-section", args=[declared.name]) in body
        assert escape(declared.description) in body
    assert "1 saved" in body


def test_finance_sees_only_the_money_sections_and_reads_them_without_a_form(signed_in):
    finance = signed_in(FINANCE)
    body = finance.get("/settings/").content.decode()
    assert "/settings/general/" in body and "/settings/mpesa/" in body
    assert "/settings/sms/" not in body and "/settings/radius/" not in body

    page = finance.get("/settings/mpesa/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "<form method=\"post\" class=\"stack panel settings-form\"" not in text
    assert "Read only" in text and ">Save<" not in text and "Use default" not in text
    form = page.context["form"]
    assert all(field.disabled for field in form.fields.values())

    assert finance.get("/settings/sms/").status_code == 403
    assert finance.post("/settings/mpesa/", page_data("mpesa", shortcode="600999")).status_code == 403
    assert store.get("mpesa.shortcode") != "600999"


@pytest.mark.parametrize("role", [SUPPORT, TECHNICIAN])
def test_support_and_technicians_are_refused(signed_in, role):
    browser = signed_in(role)
    assert browser.get("/settings/").status_code == 403
    assert browser.get("/settings/general/").status_code == 403


def test_an_unknown_section_or_setting_is_not_found(signed_in):
    admin = signed_in(ADMIN)
    assert admin.get("/settings/nonsense/").status_code == 404
    assert admin.post("/settings/general/reset/nonsense/").status_code == 404
    assert admin.post("/settings/nonsense/reset/business_name/").status_code == 404


# --- the section page -----------------------------------------------------------------------------


def test_each_field_says_where_its_value_comes_from(signed_in, settings, monkeypatch):
    monkeypatch.setenv("MPESA_SHORTCODE", "600111")
    settings.MPESA_SHORTCODE = "600111"
    monkeypatch.delenv("MPESA_CONSUMER_KEY", raising=False)
    store.save("mpesa", {"transaction_type": "CustomerBuyGoodsOnline"})
    page = signed_in(ADMIN).get("/settings/mpesa/")
    rows = {row["field"].name: row["label"] for row in page.context["rows"]}
    assert rows["shortcode"] == "environment (MPESA_SHORTCODE)"
    assert rows["consumer_key"] == "built-in default"
    assert rows["transaction_type"].startswith("saved ") and rows["transaction_type"].endswith(" by system")
    assert "environment (MPESA_SHORTCODE)" in page.content.decode()


def test_saving_shows_who_saved_it_and_is_audited(signed_in):
    admin = signed_in(ADMIN)
    answer = save_page(admin, "general", business_name="Kilimani Net", currency="TZS")
    assert answer.status_code == 302 and answer.url == "/settings/general/"
    page = admin.get(answer.url)
    text = page.content.decode()
    assert "General settings saved: Business name, Currency." in text
    rows = {row["field"].name: row["label"] for row in page.context["rows"]}
    assert rows["business_name"].startswith("saved ") and rows["business_name"].endswith(" by amani")
    assert store.get("general.business_name") == "Kilimani Net"
    entry = Entry.objects.get(object_type="siteconfig.value", object_id="general")
    assert entry.action == "changed" and entry.actor_name == "amani"
    assert entry.changes["business_name"][1] == "Kilimani Net"


def test_saving_what_is_shown_changes_nothing(signed_in):
    answer = save_page(signed_in(ADMIN), "portal")
    assert answer.status_code == 302
    assert not Entry.objects.filter(object_type="siteconfig.value").exists()


def test_an_unticked_box_is_saved_as_off(signed_in):
    save_page(signed_in(ADMIN), "portal", show_voucher=None)
    assert store.get("portal.show_voucher") is False
    assert store.get("portal.show_buy") is True


BAD_INPUT = [
    ("mpesa", "shortcode", "12"),
    ("general", "time_zone", "Mars/Olympus"),
    ("general", "currency", "kes"),
    ("general", "business_name", "x" * 10_000),
    ("sms", "sender_id", "y" * 10_000),
    ("email", "port", "99999999999999999999999"),
    ("mpesa", "callback_allowed_networks", "10.0.0.0/8\nnot-a-network"),
    ("portal", "primary_colour", "red"),
    ("radius", "server_address", "radius.example"),
]


@pytest.mark.parametrize(("section", "name", "value"), BAD_INPUT)
def test_bad_input_is_a_form_error_on_the_page(signed_in, section, name, value):
    before = store.get(f"{section}.{name}")
    page = save_page(signed_in(ADMIN), section, **{name: value})
    assert page.status_code == 200
    assert name in page.context["form"].errors
    assert "Nothing was saved" in page.content.decode()
    assert store.get(f"{section}.{name}") == before
    assert not Entry.objects.filter(object_type="siteconfig.value").exists()


def test_a_nul_byte_is_refused_before_the_form(signed_in):
    answer = save_page(signed_in(ADMIN), "general", business_name="Kili\x00mani")
    assert answer.status_code == 400
    assert store.get("general.business_name") != "Kili\x00mani"


def test_a_secret_is_never_rendered_back(signed_in):
    admin = signed_in(ADMIN)
    assert save_page(admin, "mpesa", consumer_secret=SECRET).status_code == 302
    assert store.get("mpesa.consumer_secret") == SECRET
    page = admin.get("/settings/mpesa/")
    text = page.content.decode()
    assert SECRET not in text
    rows = {row["field"].name: row["label"] for row in page.context["rows"]}
    assert rows["consumer_secret"].startswith("set — last changed ")
    assert 'name="consumer_secret"' in text and 'type="password"' in text

    # Saving the page again with the secret's box left blank keeps it.
    assert save_page(admin, "mpesa", shortcode="600222").status_code == 302
    assert store.get("mpesa.consumer_secret") == SECRET
    for url in ("/settings/", "/settings/mpesa/", "/activity/", "/api/settings/mpesa", "/api/settings"):
        assert SECRET not in admin.get(url).content.decode(), url


def test_a_secret_typed_beside_a_mistake_is_not_echoed_back(signed_in):
    page = save_page(signed_in(ADMIN), "mpesa", consumer_secret=SECRET, shortcode="12")
    assert page.status_code == 200 and "shortcode" in page.context["form"].errors
    assert SECRET not in page.content.decode()
    assert store.get("mpesa.consumer_secret") != SECRET


def test_a_secret_without_a_value_says_not_set(signed_in, settings):
    settings.SMS_API_KEY = ""
    page = signed_in(ADMIN).get("/settings/sms/")
    rows = {row["field"].name: row["label"] for row in page.context["rows"]}
    assert rows["api_key"] == "not set"


def test_use_default_puts_the_environment_back_and_is_audited(signed_in, settings):
    settings.BUSINESS_NAME = "Hotspot"
    admin = signed_in(ADMIN)
    save_page(admin, "general", business_name="Kilimani Net")
    page = admin.get("/settings/general/")
    assert 'form="reset-business_name"' in page.content.decode()
    assert 'form="reset-currency"' not in page.content.decode()  # not saved: nothing to reset

    answer = admin.post(reverse("settings-reset", args=["general", "business_name"]))
    assert answer.status_code == 302 and answer.url == "/settings/general/"
    assert store.get("general.business_name") == "Hotspot"
    assert store.source("general.business_name").kind != "saved"
    assert Entry.objects.filter(object_type="siteconfig.value", object_id="general", action="reset").exists()
    again = admin.post(reverse("settings-reset", args=["general", "business_name"]), follow=True)
    assert "was not saved" in again.content.decode()


def test_only_admin_may_reset(signed_in):
    store.save("general", {"business_name": "Kilimani Net"})
    assert signed_in(FINANCE).post("/settings/general/reset/business_name/").status_code == 403
    assert store.get("general.business_name") == "Kilimani Net"


def test_every_section_page_renders_for_admin(signed_in):
    admin = signed_in(ADMIN)
    for name in SECTIONS:
        page = admin.get(f"/settings/{name}/")
        assert page.status_code == 200, name
        assert f"{SECTIONS[name].title} settings" in page.content.decode()


# --- the API --------------------------------------------------------------------------------------


def test_the_api_lists_the_sections_each_role_may_read(admin, finance_clerk, support_agent, client):
    everything = client.get("/api/settings", **bearer(admin)).json()
    assert [s["section"] for s in everything] == list(SECTIONS)
    money = client.get("/api/settings", **bearer(finance_clerk)).json()
    assert [s["section"] for s in money] == ["general", "mpesa"]
    assert client.get("/api/settings", **bearer(support_agent)).status_code == 403


def test_the_api_shows_values_and_sources_but_a_secret_only_as_set(admin, client, settings, monkeypatch):
    monkeypatch.setenv("MPESA_SHORTCODE", "600111")
    settings.MPESA_SHORTCODE = "600111"
    store.save("mpesa", {"consumer_secret": SECRET})
    body = client.get("/api/settings/mpesa", **bearer(admin)).json()
    assert body["section"] == "mpesa" and body["title"] == "M-Pesa"
    assert body["settings"]["shortcode"] == {"value": "600111", "source": "environment", "changed_at": None,
                                             "changed_by": None}
    secret = body["settings"]["consumer_secret"]
    assert secret["set"] is True and secret["source"] == "saved" and secret["changed_at"]
    assert "value" not in secret
    assert SECRET not in str(body)


def test_put_changes_only_the_fields_sent(admin, client):
    store.save("portal", {"show_voucher": False, "welcome_text": "Karibu"})
    answer = client.put("/api/settings/portal", {"primary_colour": "#112233"}, content_type="application/json",
                        **bearer(admin))
    assert answer.status_code == 200, answer.content
    body = answer.json()["settings"]
    assert body["primary_colour"]["value"] == "#112233" and body["primary_colour"]["source"] == "saved"
    assert body["primary_colour"]["changed_by"] == "amani"
    assert body["show_voucher"]["value"] is False  # a boolean left out keeps its value
    assert body["welcome_text"]["value"] == "Karibu"
    entry = Entry.objects.filter(object_type="siteconfig.value", object_id="portal").first()
    assert set(entry.changes) == {"primary_colour"}


def test_put_sets_a_secret_without_answering_it_back(admin, client):
    answer = client.put("/api/settings/mpesa", {"passkey": SECRET, "shortcode": "600444"},
                        content_type="application/json", **bearer(admin))
    assert answer.status_code == 200, answer.content
    assert SECRET not in answer.content.decode()
    assert store.get("mpesa.passkey") == SECRET and store.get("mpesa.shortcode") == "600444"
    assert answer.json()["settings"]["passkey"]["set"] is True


@pytest.mark.parametrize(("section", "changes", "bad"), [
    ("mpesa", {"shortcode": "12"}, {"shortcode"}),
    ("general", {"time_zone": "Mars/Olympus", "currency": "kes"}, {"time_zone", "currency"}),
    ("general", {"business_name": "x" * 10_000}, {"business_name"}),
    ("general", {"business_name": ["a list"]}, {"business_name"}),
    ("general", {"logo": "https://elsewhere.example/logo.png"}, {"logo"}),
    ("general", {"nonsense": 1}, {"nonsense"}),
    ("email", {"port": True}, {"port"}),
    ("radius", {"server_address": 5, "coa_timeout": [3]}, {"server_address", "coa_timeout"}),
    ("radius", {"server_address": ["10.0.0.1"]}, {"server_address"}),
    ("portal", {"show_buy": "yes", "welcome_text": {"en": "Karibu"}}, {"show_buy", "welcome_text"}),
    ("portal", {"primary_colour": None}, {"primary_colour"}),
    ("email", {"port": 10**30}, {"port"}),
    ("mpesa", {"callback_allowed_networks": ["10.0.0.0/8", "nope"]}, {"callback_allowed_networks"}),
])
def test_put_refuses_bad_input_naming_each_field(admin, client, section, changes, bad):
    answer = client.put(f"/api/settings/{section}", changes, content_type="application/json", **bearer(admin))
    assert answer.status_code == 422, answer.content
    body = answer.json()
    assert body["detail"] == "Invalid request"
    assert {error["loc"][-1] for error in body["errors"]} == bad
    assert all(error["msg"] for error in body["errors"])
    assert not Entry.objects.filter(object_type="siteconfig.value").exists()


def test_put_refuses_a_nul_byte_and_a_body_that_is_not_an_object(admin, client):
    nul = client.put("/api/settings/general", {"business_name": "Kili\x00mani"}, content_type="application/json",
                     **bearer(admin))
    assert nul.status_code == 422
    listed = client.put("/api/settings/general", ["business_name"], content_type="application/json", **bearer(admin))
    assert listed.status_code == 422


def test_the_api_answers_unknown_sections_and_other_roles(admin, finance_clerk, technician, client):
    assert client.get("/api/settings/nonsense", **bearer(admin)).status_code == 404
    assert client.put("/api/settings/nonsense", {}, content_type="application/json",
                      **bearer(admin)).status_code == 404
    assert client.get("/api/settings/mpesa", **bearer(finance_clerk)).status_code == 200
    assert client.get("/api/settings/sms", **bearer(finance_clerk)).status_code == 403
    assert client.put("/api/settings/mpesa", {"shortcode": "600555"}, content_type="application/json",
                      **bearer(finance_clerk)).status_code == 403
    assert client.get("/api/settings/general", **bearer(technician)).status_code == 403
    assert store.get("mpesa.shortcode") != "600555"


JUNK = [5, -1, 1e300, True, None, [], ["x"], {}, {"a": 1}, "", "x" * 10_000, "٣٤٥", "\u202e", "a\nb"]


def test_any_json_value_for_any_field_is_a_200_or_a_422_never_a_500(admin, client):
    # Every field of a section gets the junk in one request (a form validates every field), then
    # the fields that took it are saved on their own: each value is both validated and saved.
    headers = bearer(admin)
    for name, declared in SECTIONS.items():
        for junk in JUNK:
            body = {item.name: junk for item in declared.settings if item.in_form}
            answer = client.put(f"/api/settings/{name}", body, content_type="application/json", **headers)
            assert answer.status_code in (200, 422), (name, junk, answer.status_code)
            if answer.status_code == 200:
                continue
            refused = {e["loc"][-1] for e in answer.json()["errors"]}
            assert refused <= set(body), (name, junk, refused)
            taken = {field: value for field, value in body.items() if field not in refused}
            if taken:
                answer = client.put(f"/api/settings/{name}", taken, content_type="application/json", **headers)
                assert answer.status_code == 200, (name, junk, answer.json())
    # What was accepted reads back and the pages still render.
    for name in SECTIONS:
        assert client.get(f"/api/settings/{name}", **headers).status_code == 200
