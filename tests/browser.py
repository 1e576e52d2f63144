"""What a browser does with our HTML pages, done with httpx: read a form, submit it, log in."""

from html.parser import HTMLParser
from urllib.parse import urljoin

import httpx


class _FormParser(HTMLParser):
    def __init__(self, form_id: str | None):
        super().__init__()
        self.form_id = form_id
        self.forms: list[dict] = []
        self._current: dict | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and (self.form_id is None or attrs.get("id") == self.form_id):
            self._current = {"action": attrs.get("action") or "", "fields": {}}
        elif tag == "input" and self._current is not None and attrs.get("name"):
            # Submit buttons are sent only when clicked: the caller adds the one it clicks.
            if attrs.get("type") != "submit":
                self._current["fields"][attrs["name"]] = attrs.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "form" and self._current is not None:
            self.forms.append(self._current)
            self._current = None


def form_of(page: httpx.Response, form_id: str | None = None) -> tuple[str, dict]:
    """The URL a page's form posts to and its pre-filled fields (hidden ones included)."""
    parser = _FormParser(form_id)
    parser.feed(page.text)
    assert len(parser.forms) == 1, f"expected one form #{form_id} on {page.url}: {page.text[:2000]}"
    form = parser.forms[0]
    return urljoin(str(page.url), form["action"]), form["fields"]


def log_in(http: httpx.Client, *, username: str, password: str, page_url: str = "/accounts/login/") -> httpx.Response:
    """Fill in the login page's form as a person would; answers the response to its POST."""
    page = http.get(page_url)
    assert page.status_code == 200, page.text
    action, fields = form_of(page, "login-form")
    assert "csrfmiddlewaretoken" in fields
    return http.post(action, data={**fields, "username": username, "password": password})
