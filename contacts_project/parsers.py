"""The API's JSON parser: DRF's, with a 400 that says what is wrong for the two bodies
Python's json module refuses otherwise than with a plain parse error."""

import codecs
import json
import sys

from rest_framework import parsers
from rest_framework.exceptions import ParseError
from rest_framework.utils.json import strict_constant


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        decoded = codecs.getreader(parsers.get_encoding(parser_context or {}))(stream)
        try:
            return json.load(decoded, parse_constant=strict_constant if self.strict else None, parse_int=_int)
        except RecursionError:  # DRF's lets it through: a 500
            raise ParseError("JSON parse error - the body is nested too deeply") from None
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None


def _int(text: str) -> int:
    """An integer, or a message naming the limit (Python's own tells how to raise it)."""
    limit = sys.get_int_max_str_digits()
    if limit and len(text.lstrip("-")) > limit:
        raise ValueError(f"a number has more than {limit:,} digits")
    return int(text)
