"""Whole numbers typed or sent by people and other systems."""

from __future__ import annotations

import re

_ASCII_DIGITS = re.compile(r"[0-9]+")


def whole_number(raw: str | None, *, max_digits: int) -> int | None:
    """``raw`` as a number when it is 1 to ``max_digits`` ASCII digits, else None.

    Not ``str.isdigit()``: "³" and "١" are digits to it, and ``int("³")`` fails.
    """
    if raw is None or len(raw) > max_digits or not _ASCII_DIGITS.fullmatch(raw):
        return None
    return int(raw)
