"""Reading CSV files for the admin import, and the import pages' refusals."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from contacts.csv_import import CsvProblem, csv_contacts, csv_read
from contacts.models import BulkJob, Contact
from lists.models import ContactList
from tests import factories


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"])
def test_delimiter_and_byte_order_mark_are_detected(delimiter, bom):
    text = delimiter.join(["First name", "E-mail", "Notes"]) + "\n" + delimiter.join(["Ada", "ada@example.test", '"x; y, z"'])
    table = csv_read(bom + text.encode())

    assert table.delimiter == delimiter
    assert table.headers == ["First name", "E-mail", "Notes"]
    assert csv_contacts(table, vars_columns=set(table.unknown)) == [
        {"firstName": "Ada", "email": "ada@example.test", "vars": {"Notes": "x; y, z"}}
    ]


@pytest.mark.parametrize(
    "header, field",
    [("first_name", "firstName"), ("FIRST NAME", "firstName"), ("E-mail", "email"), ("Email Address", "email"),
     ("LinkedIn", "linkedinUrl"), ("linkedin_url", "linkedinUrl"), ("Company", "companyName"), ("Title", "jobTitle"),
     ("Postal code", "zipcode"), ("companySize", "companySize")],
)
def test_headers_map_to_contract_fields_by_their_usual_spellings(header, field):
    table = csv_read(f"{header}\nvalue\n".encode())

    assert table.mapping == {0: field} and table.unknown == []


def test_unticked_unknown_columns_and_empty_cells_are_left_out():
    table = csv_read(b"email,city,Shoe size\na@example.test,,44\n")

    assert csv_contacts(table, vars_columns=set()) == [{"email": "a@example.test"}]


def test_a_delimiter_inside_a_quoted_header_does_not_count():
    table = csv_read(b'"Name, full";Email\nAda Lovelace;ada@example.test\n')

    assert table.delimiter == ";" and table.headers == ["Name, full", "Email"]


def test_a_quoted_cell_over_two_lines_keeps_the_next_rows_line_numbers_true():
    table = csv_read(b'email,notes\na@example.test,"one\ntwo"\nb@example.test,three\n')

    assert table.lines == [2, 4]


@pytest.mark.parametrize(
    "data, message",
    [
        (b"\xff\xfeemail\n", "The file is not UTF-8 text. Save it as CSV UTF-8 and upload it again."),
        (b"", "The file is empty."),
        (b"email\n\n", "The file has a header but no rows."),
        (b"email\n" + b"a@example.test\n" * 10_001, "The file has more than 10,000 rows; split it."),
        (b"email,notes\na@example.test,ok\nb@example.test," + b"y" * 140_000 + b"\n",
         "Line 3: a cell is longer than 131,072 characters."),
        (b"email," + b"h" * 140_000 + b"\na@example.test,x\n", "Line 1: a cell is longer than 131,072 characters."),
        (b"email,note,Shoe size,note\na@example.test,first,44,second\n",
         'Two columns are named "note": rename one and upload the file again.'),
    ],
)
def test_unreadable_files_are_refused_with_a_reason(data, message):
    with pytest.raises(CsvProblem) as problem:
        csv_read(data)

    assert str(problem.value) == message


@pytest.mark.django_db
def test_an_import_past_the_quota_shows_the_reason_and_writes_nothing(client):
    account = factories.account_make(total_limit=1)
    operator = factories.user_make(account, is_staff=True, is_superuser=True)
    client.force_login(operator)
    upload = SimpleUploadedFile("c.csv", b"email\na@example.test\nb@example.test\n", content_type="text/csv")

    start = client.post("/admin/contacts/contact/import/", {"file": upload, "new_list": "Leads"})
    page = client.post("/admin/contacts/contact/import/preview/", {}, follow=True)

    assert start.status_code == 302
    assert "Nothing was imported: contact_total_quotas:" in page.content.decode()
    assert not Contact.objects.exists() and not BulkJob.objects.exists()
    assert not ContactList.objects.filter(name="Leads").exists()


@pytest.mark.django_db
def test_staff_without_the_add_permission_cannot_import(client):
    staff = factories.user_make(factories.account_make(), is_staff=True)
    client.force_login(staff)

    assert client.get("/admin/contacts/contact/import/").status_code == 403


@pytest.mark.django_db
def test_an_import_with_a_language_that_is_no_iso_639_1_code_names_its_line_and_writes_nothing(client):
    operator = factories.user_make(factories.account_make(), is_staff=True, is_superuser=True)
    client.force_login(operator)
    data = b"email,lang\na@example.test,FR\nb@example.test,ZZ\n"
    upload = SimpleUploadedFile("c.csv", data, content_type="text/csv")

    client.post("/admin/contacts/contact/import/", {"file": upload, "new_list": "Leads"})
    page = client.post("/admin/contacts/contact/import/preview/", {})

    assert page.context["problems"] == [{"line": 3, "column": "lang", "message": "must be a two-letter ISO 639-1 code"}]
    assert not Contact.objects.exists() and not BulkJob.objects.exists()


@pytest.mark.django_db
def test_a_file_over_the_size_limit_is_refused_before_it_is_read(client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2**20
    client.force_login(factories.user_make(factories.account_make(), is_staff=True, is_superuser=True))
    data = b"email,notes\n" + b"a@example.test," + b"y" * 2**20 + b"\n"
    upload = SimpleUploadedFile("c.csv", data, content_type="text/csv")

    page = client.post("/admin/contacts/contact/import/", {"file": upload, "new_list": "Leads"})

    assert page.status_code == 200
    assert page.context["form"].errors["file"] == ["The file is larger than the 1 MB this service accepts."]
