"""Reading a CSV file of contacts for the admin import: decoding, the delimiter, and which
column feeds which field of the contract (unknown columns can go to `vars`)."""

import csv
import io
import re
from dataclasses import dataclass, field

from .bulk_input import MAX_CONTACTS
from .fields import CONTACT_FIELDS

DELIMITERS = ",;\t"

# Header spellings (compared without case, spaces, dashes or underscores) -> contract field.
_ALIASES = {
    "email": ["email", "e-mail", "mail", "email address", "e-mail address"],
    "firstName": ["first name", "firstname", "given name", "prénom", "prenom"],
    "lastName": ["last name", "lastname", "surname", "family name", "nom"],
    "linkedinUrl": ["linkedin", "linkedin url", "linkedin profile", "linkedin profile url"],
    "companyName": ["company", "company name", "organization", "organisation", "employer"],
    "companyIndustry": ["industry", "company industry", "sector"],
    "companySize": ["company size", "size", "employees", "headcount"],
    "companyDescription": ["company description", "description"],
    "companyWebsite": ["website", "company website", "company url", "web site", "domain"],
    "jobTitle": ["title", "job title", "position", "role"],
    "mobilePhone": ["mobile", "mobile phone", "cell", "cell phone"],
    "phone": ["phone", "phone number", "telephone", "work phone"],
    "pictureUrl": ["picture", "picture url", "photo", "avatar", "gravatar"],
    "collectedAt": ["collected at", "collected", "date collected"],
    "zipcode": ["zip", "zipcode", "zip code", "postal code", "postcode"],
    "city": ["city", "town"],
    "country": ["country"],
    "language": ["language", "lang"],
    "owner": ["owner", "owner email"],
    "source": ["source"],
}


def _squash(text: str) -> str:
    return re.sub(r"[\s_\-]+", "", text.strip().lower())


_BY_SPELLING = {_squash(f.api): f.api for f in CONTACT_FIELDS if f.api != "vars"}
_BY_SPELLING.update({_squash(alias): api for api, aliases in _ALIASES.items() for alias in aliases})


class CsvProblem(Exception):
    """The file as a whole cannot be read (encoding, size, no header)."""


@dataclass
class CsvTable:
    headers: list[str]
    rows: list[list[str]]
    lines: list[int]  # the file line each row starts on (a quoted cell may span lines)
    delimiter: str
    mapping: dict[int, str] = field(default_factory=dict)  # column -> contract field
    unknown: list[int] = field(default_factory=list)  # columns no field takes: offered as vars


def csv_read(data: bytes) -> CsvTable:
    """Decode (UTF-8, with or without BOM), detect the delimiter, read and map the columns."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CsvProblem("The file is not UTF-8 text. Save it as CSV UTF-8 and upload it again.") from None
    try:
        delimiter = _delimiter(text.split("\n", 1)[0])
    except csv.Error as exc:
        raise CsvProblem(_unreadable(1, exc)) from None
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        headers = [h.strip() for h in next(reader)]
        _headers_check(headers)
        rows, lines = [], []
        line = reader.line_num + 1
        for row in reader:
            if any(cell.strip() for cell in row):
                if len(rows) == MAX_CONTACTS:
                    raise CsvProblem(f"The file has more than {MAX_CONTACTS:,} rows; split it.")
                rows.append(row)
                lines.append(line)
            line = reader.line_num + 1
    except StopIteration:
        raise CsvProblem("The file is empty.") from None
    except csv.Error as exc:
        raise CsvProblem(_unreadable(reader.line_num, exc)) from None
    if not rows:
        raise CsvProblem("The file has a header but no rows.")
    table = CsvTable(headers=headers, rows=rows, lines=lines, delimiter=delimiter)
    _map_columns(table)
    return table


def _delimiter(first_line: str) -> str:
    """The delimiter that splits the header into the most columns (quotes respected: a
    header `"Name, full";Email` is two columns on `;`)."""
    return max(DELIMITERS, key=lambda d: len(next(csv.reader([first_line], delimiter=d), [])))


def _headers_check(headers: list[str]) -> None:
    """Two columns of one name would feed one field or one `vars` key: one would be lost."""
    seen = set()
    for header in headers:
        if header and header in seen:
            raise CsvProblem(f'Two columns are named "{header}": rename one and upload the file again.')
        seen.add(header)


def _unreadable(line: int, exc: csv.Error) -> str:
    if "field larger than field limit" in str(exc):
        return f"Line {line}: a cell is longer than {csv.field_size_limit():,} characters."
    return f"Line {line} cannot be read as CSV ({exc})."


def _map_columns(table: CsvTable) -> None:
    taken = set()
    for column, header in enumerate(table.headers):
        api = _BY_SPELLING.get(_squash(header))
        if api and api not in taken:
            table.mapping[column] = api
            taken.add(api)
        elif header:
            table.unknown.append(column)


def csv_contacts(table: CsvTable, *, vars_columns: set[int]) -> list[dict]:
    """The rows as contacts of the contract: empty cells are left out, chosen unknown
    columns go to `vars`. (Created contacts get the source `import` from the job.)"""
    contacts = []
    for row in table.rows:
        contact = {}
        for column, api in table.mapping.items():
            value = row[column].strip() if column < len(row) else ""
            if value:
                contact[api] = value
        extra = {
            table.headers[c]: row[c].strip() for c in vars_columns if c < len(row) and row[c].strip()
        }
        if extra:
            contact["vars"] = extra
        contacts.append(contact)
    return contacts


def csv_column_of(table: CsvTable, field_name: str) -> str:
    """The header of the column that feeds a contract field (or `vars.<key>`)."""
    if field_name.startswith("vars."):
        return field_name.removeprefix("vars.")
    for column, api in table.mapping.items():
        if api == field_name:
            return table.headers[column]
    return field_name
