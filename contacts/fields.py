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


CONTACT_FIELDS = (
    ContactField("collectedAt", "collected_at", "datetime"),
    ContactField("linkedinUrl", "linkedin_url", "linkedin", 2048),
    ContactField("owner", "owner", "owner", 254),
    ContactField("source", "source", "source"),
    ContactField("vars", "vars", "vars"),
    ContactField("email", "email", "email", 254),
    ContactField("firstName", "first_name", "text", 255),
    ContactField("lastName", "last_name", "text", 255),
    ContactField("companyIndustry", "company_industry", "text", 255),
    ContactField("companyName", "company_name", "text", 255),
    ContactField("companySize", "company_size", "text", 64),
    ContactField("companyDescription", "company_description", "text", 5000),
    ContactField("companyWebsite", "company_website", "url", 2048),
    ContactField("city", "city", "text", 255),
    ContactField("country", "country", "text", 255),
    ContactField("zipcode", "zipcode", "text", 32),
    ContactField("language", "language", "language"),
    ContactField("mobilePhone", "mobile_phone", "text", 64),
    ContactField("phone", "phone", "text", 64),
    ContactField("pictureUrl", "picture_url", "url", 2048),
    ContactField("jobTitle", "job_title", "text", 255),
)
FIELDS_BY_API = {field.api: field for field in CONTACT_FIELDS}

SOURCES = ("manual", "connect", "import", "api")
DEFAULT_SOURCE = "manual"
DEFAULT_LANGUAGE = "en"

VARS_MAX_KEYS = 100
VARS_MAX_KEY_LENGTH = 100
VARS_MAX_VALUE_LENGTH = 2000
