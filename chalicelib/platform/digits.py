"""Digits as callers key them: ASCII 0-9 only, in one parser for every hook.

`str.isdigit()` accepts '²', '٣' and other Unicode digits that `int()` then refuses (or reads
as a number no keypad sends). DTMF and the numbers our flows pass are ASCII.
"""

from __future__ import annotations

import re

_ASCII_DIGITS = re.compile(r"[0-9]{1,18}")


def is_ascii_digits(text: object) -> bool:
    """True for a string of 1 to 18 ASCII digits, and nothing else."""
    return isinstance(text, str) and _ASCII_DIGITS.fullmatch(text) is not None


def parse_digits(text: object) -> int | None:
    """The number a string of ASCII digits spells; None for anything else."""
    return int(text) if isinstance(text, str) and is_ascii_digits(text) else None
