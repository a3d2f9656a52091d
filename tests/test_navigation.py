"""The sidebar: links grouped (Customers, Sales, Network, Reports, Support, System), each shown to
whoever may open it, the current page marked and its group open."""
import re

import pytest

from accounts.context_processors import GROUPS, OPEN_ALL_UP_TO
from hotspot.models import Customer


def _sidebar(html: str) -> str:
    return html[html.index('<nav class="menu"'):html.index("</nav>")]


@pytest.mark.django_db
def test_a_customers_page_marks_customers_and_opens_only_its_group_for_admin(signed_in):
    client = signed_in("Admin")
    customer = Customer.objects.create(phone="254700000001")
    nav = _sidebar(client.get(f"/customers/{customer.pk}/").content.decode())
    assert re.findall(r'aria-current="page">([^<]+)<', nav) == ["Customers"]
    opened = re.findall(r'<details class="nav-group" open>\s*<summary>([^<]+)<', nav)
    assert opened == ["Customers"]
    assert nav.count("<details") >= 5


@pytest.mark.django_db
def test_the_longest_matching_link_is_the_current_one(signed_in):
    nav = _sidebar(signed_in("Admin").get("/customers/pppoe/").content.decode())
    assert re.findall(r'aria-current="page">([^<]+)<', nav) == ["PPPoE users"]


@pytest.mark.django_db
def test_a_role_with_few_pages_sees_every_group_open_and_no_page_it_cannot_open(signed_in):
    client = signed_in("Technician")
    nav = _sidebar(client.get("/").content.decode())
    links = re.findall(r'<a href="([^"]+)"', nav)
    assert len(links) <= OPEN_ALL_UP_TO
    assert "<details class=\"nav-group\">" not in nav  # all open
    for url in links:
        assert client.get(url).status_code == 200, url
    assert "/payments/" not in links and "/staff/" not in links


def test_every_group_has_a_title_but_the_first():
    titles = [title for title, _ in GROUPS]
    assert titles[0] == "" and all(titles[1:])
    assert {"Customers", "Sales", "Network", "Reports", "Support", "System"} <= set(titles)
