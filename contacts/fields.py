"""The contact fields of the contract: API name, model attribute, kind and length limit.

Everything that maps between the API and the database reads this one table.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class ContactField:
    api: str
    attr: str
    kind: str  # text, email, url, linkedin, datetime, source, language, owner, vars
    max_length: int | None = None
    description: str = ""


CONTACT_FIELDS = (
    ContactField("collectedAt", "collected_at", "datetime", None, "When the contact was collected: ISO 8601 date or date-time (UTC if no offset); default: now."),
    ContactField("linkedinUrl", "linkedin_url", "linkedin", 2048, "The contact's LinkedIn profile URL; matched ignoring scheme, host case, query and trailing slash."),
    ContactField("owner", "owner", "owner", 254, "Email of the contact's owner, a user of your account; default: you."),
    ContactField("source", "source", "source", None, "Where the contact came from; default manual."),
    ContactField("vars", "vars", "vars", None, "Custom properties (string keys to JSON scalars); merged key by key on update, null removes a key."),
    ContactField("email", "email", "email", 254, "The contact's email; matched case-insensitively."),
    ContactField("firstName", "first_name", "text", 255),
    ContactField("lastName", "last_name", "text", 255),
    ContactField("companyIndustry", "company_industry", "text", 255, "The category of the company."),
    ContactField("companyName", "company_name", "text", 255),
    ContactField("companySize", "company_size", "text", 64, "The number of employees, e.g. 11-50."),
    ContactField("companyDescription", "company_description", "text", 5000, "What the company does."),
    ContactField("companyWebsite", "company_website", "url", 2048),
    ContactField("city", "city", "text", 255, "City in which the contact works."),
    ContactField("country", "country", "text", 255, "Country in which the contact works."),
    ContactField("zipcode", "zipcode", "text", 32, "Zipcode of where the contact works."),
    ContactField("language", "language", "language", None, "ISO 639-1 code; default en."),
    ContactField("mobilePhone", "mobile_phone", "text", 64, "Professional mobile phone number."),
    ContactField("phone", "phone", "text", 64, "Professional phone number."),
    ContactField("pictureUrl", "picture_url", "url", 2048, "The gravatar or picture URL."),
    ContactField("jobTitle", "job_title", "text", 255, "Job title within the company."),
)
FIELDS_BY_API = {field.api: field for field in CONTACT_FIELDS}

SOURCES = ("manual", "connect", "import", "api")
DEFAULT_SOURCE = "manual"
DEFAULT_LANGUAGE = "en"

VARS_MAX_KEYS = 100
VARS_MAX_KEY_LENGTH = 100
VARS_MAX_VALUE_LENGTH = 2000
