"""The one place that turns an email or a LinkedIn URL into the key contacts are matched by."""


def email_key(email: str | None) -> str | None:
    """Emails match case-insensitively."""
    return email.strip().lower() if email else None


def linkedin_key(url: str | None) -> str | None:
    """LinkedIn URLs match ignoring scheme, host case, query, fragment and trailing slash.

    Plain string operations: this runs for every row of every bulk job."""
    if not url:
        return None
    rest = url.strip()
    scheme_end = rest.find("://")
    if scheme_end != -1:
        rest = rest[scheme_end + 3 :]
    for mark in ("#", "?"):
        rest = rest.split(mark, 1)[0]
    host, slash, path = rest.partition("/")
    host = host.rsplit("@", 1)[-1].lower()  # no user info
    return f"{host}{slash}{path}".rstrip("/")
