"""A page as the walks over every staff page read it: its links, and each form's method, action,
field names and select options, parsed from the HTML; and the URL name a path resolves to.

Two walks share it: tests/test_input_fuzz.py (every field of every form sent input PostgreSQL cannot
store) and bench/pages.py (every filter option of every list timed at an ISP's size). Fields
outside any form count as the last form's, as a form's ``form=`` inputs usually follow it.
"""
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlsplit

from django.urls import Resolver404, resolve


@dataclass
class Form:
    method: str  # "get" or "post"
    action: str  # "" means the page itself
    names: set = field(default_factory=set)  # its fields' names, the CSRF token left out
    selects: dict = field(default_factory=dict)  # {select name: [option values, empty ones left out]}


class PageForms(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: set[str] = set()  # hrefs within the site ("/…")
        self.forms: list[Form] = []
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and (attrs.get("href") or "").startswith("/"):
            self.links.add(attrs["href"])
        elif tag == "form":
            self.forms.append(Form((attrs.get("method") or "get").lower(), attrs.get("action") or ""))
        elif tag in ("input", "select", "textarea") and attrs.get("name") and self.forms:
            if attrs["name"] != "csrfmiddlewaretoken":
                self.forms[-1].names.add(attrs["name"])
            if tag == "select":
                self._select = attrs["name"]
                self.forms[-1].selects.setdefault(self._select, [])
        elif tag == "option" and self._select and attrs.get("value"):
            self.forms[-1].selects[self._select].append(attrs["value"])

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None

    def get_selects(self) -> dict[str, list[str]]:
        """The selects of the page's GET forms (its filters), with their option values."""
        found: dict[str, list[str]] = {}
        for form in self.forms:
            if form.method == "get":
                for name, values in form.selects.items():
                    found.setdefault(name, values)
        return found


def parsed(response) -> PageForms:
    """The links and forms of a Django test client's (or any) response; none unless it is HTML."""
    page = PageForms()
    if response.get("Content-Type", "").startswith("text/html"):
        page.feed(response.content.decode(errors="replace"))
    return page


def url_name(path: str) -> str | None:
    """"namespace:name" (or "name") of the page at ``path``; None when no page is there."""
    try:
        match = resolve(urlsplit(path).path)
    except Resolver404:
        return None
    return f"{match.namespace}:{match.url_name}" if match.namespace else match.url_name
