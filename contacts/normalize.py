"""The one place that turns an email or a LinkedIn URL into the key contacts are matched by
(one value at a time, or a column of plain ones at once)."""


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


def email_keys_of_plain(joined: str, count: int) -> list[str] | None:
    """email_key of each of `count` emails joined by newlines, computed at once; None if
    they are not all plain (ASCII, no whitespace: where lowering them all is the same)."""
    if not _plain(joined, count):
        return None
    return joined.lower().split("\n")


def linkedin_keys_of_plain(joined: str, count: int) -> list[str] | None:
    """linkedin_key of each of `count` URLs joined by newlines, computed at once; None if
    they are not all plain: ASCII in lower case without whitespace, each `http(s)://`
    then a host and a path, without query, fragment or user info."""
    if not count or not _plain(joined, count) or "?" in joined or "#" in joined or "@" in joined:
        return None
    if joined != joined.lower():
        return None
    lines = "\n" + joined + "\n"
    if lines.count("\nhttps://") + lines.count("\nhttp://") != count:
        return None
    lines = lines.replace("\nhttps://", "\n").replace("\nhttp://", "\n")
    while "/\n" in lines:  # trailing slashes, one a turn
        lines = lines.replace("/\n", "\n")
    return lines[1:-1].split("\n")


def _plain(joined: str, count: int) -> bool:
    """Whether `count` values joined by newlines are ASCII without whitespace (and none
    held a newline of its own)."""
    if not joined.isascii() or any(space in joined for space in (" ", "\t", "\r", "\x0b", "\x0c")):
        return False
    return joined.count("\n") == count - 1
