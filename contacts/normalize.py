"""The one place that turns an email or a LinkedIn URL into the key contacts are matched by."""

from urllib.parse import urlsplit


def email_key(email: str | None) -> str | None:
    """Emails match case-insensitively."""
    return email.strip().lower() if email else None


def linkedin_key(url: str | None) -> str | None:
    """LinkedIn URLs match ignoring scheme, host case, query, fragment and trailing slash."""
    if not url:
        return None
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    port = f":{parts.port}" if parts.port else ""
    return f"{host}{port}{parts.path.rstrip('/')}"
