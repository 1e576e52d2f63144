"""The admin import in a real browser: Debian's headless Chromium driven by Playwright,
against the live service (daphne, separate workers, Redis)."""

import shutil
from pathlib import Path

import pytest
from django.db import connections
from playwright.sync_api import expect, sync_playwright

from contacts.models import BulkJob, Contact
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Root needs --no-sandbox; the rest keep Chromium from reaching for the network.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
]
OUTPUT = Path(__file__).resolve().parent.parent.parent / "test-output"


@pytest.fixture
def operator(db):
    account = factories.account_make("Acme")
    user = factories.user_make(account, "ops@acme.test", is_staff=True, is_superuser=True)
    return account, user


@pytest.fixture
def browser_page(monkeypatch):
    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls
    # between page steps are plain blocking calls, which Django must be told is fine.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        yield page
        # While Playwright runs, this thread has a running event loop, so Django keeps the
        # test's connections apart from the thread's own (asgiref's Local): closed here,
        # while still in reach, or one stays open and the test database cannot be dropped.
        connections.close_all()
        browser.close()


def _csv(tmp_path, lines: list[str]) -> Path:
    path = tmp_path / "contacts.csv"
    path.write_bytes("\ufeff".encode() + "\n".join(lines).encode())  # with a BOM, as Excel writes it
    return path


def _upload(page, base_url: str, csv_path: Path, list_name: str) -> None:
    page.goto(f"{base_url}/admin/login/")
    page.fill("#id_username", "ops@acme.test")
    page.fill("#id_password", "pw")
    page.click("input[type=submit]")
    page.goto(f"{base_url}/admin/contacts/contact/")
    page.click("#import-contacts")
    page.set_input_files("#id_file", str(csv_path))
    page.fill("#id_new_list", list_name)
    page.click("#import-form input[type=submit]")


def test_operator_imports_a_csv_and_watches_it_finish(live_service, operator, browser_page, tmp_path):
    account, user = operator
    old = factories.list_make(account, "old")
    for i in range(40):
        factories.contact_make(account, old, user, email=f"person{i}@example.test", first_name="Old")
    lines = ["First name;E-mail;Company;Title;LinkedIn;Favourite colour"]
    lines += [f"Person {i};person{i}@example.test;Acme {i % 7};Engineer;https://www.linkedin.com/in/person-{i};blue" for i in range(300)]
    page = browser_page

    _upload(page, live_service.base_url, _csv(tmp_path, lines), "Imported")
    expect(page.locator("#import-mapping")).to_contain_text("firstName")
    expect(page.locator("#import-mapping")).to_contain_text("custom property")
    page.click("#import-submit")
    expect(page.locator("#import-result")).to_be_visible(timeout=60_000)
    summary = page.locator("#import-summary").inner_text()
    count = page.locator("#import-count").inner_text()
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / "admin-import-finished.png"), full_page=True)
    page.click("#import-contacts-link")
    expect(page.locator("#result_list")).to_be_visible()

    assert summary == "Done: 260 created, 40 updated."
    assert count == "300 / 300"
    imported = Contact.objects.filter(account=account)
    assert imported.count() == 300
    # `import` is the default source of created contacts; updated ones keep theirs.
    assert imported.filter(source="import").count() == 260 and imported.filter(source="manual").count() == 40
    person = imported.get(email_key="person1@example.test")
    assert (person.first_name, person.company_name, person.job_title, person.vars) == (
        "Person 1", "Acme 1", "Engineer", {"Favourite colour": "blue"}
    )
    assert imported.filter(list__name="Imported").count() == 260  # existing ones stay in their list
    assert BulkJob.objects.get(account=account).status == "done"


def test_a_bad_row_is_shown_with_its_line_and_column_and_nothing_is_written(live_service, operator, browser_page, tmp_path):
    account, _ = operator
    lines = ["First name,E-mail", "Ada,ada@example.test", "Grace,grace@example.test", "Bad,not-an-email", "Linus,linus@example.test"]
    page = browser_page

    _upload(page, live_service.base_url, _csv(tmp_path, lines), "Imported")
    page.click("#import-submit")
    problems = page.locator("#import-problems tbody tr")
    expect(problems).to_have_count(1)
    cells = problems.first.locator("td").all_inner_texts()

    assert cells == ["4", "E-mail", "must be a valid email address"]
    assert not Contact.objects.filter(account=account).exists()
    assert not BulkJob.objects.filter(account=account).exists()
