"""What an outcome's text is expected to name, matched without depending on anyone's wording.

A feature never expects one device's or one S1SP's sentence. Where a reading says a refusal
names something (18.37: the limit), or a scenario names a device or its HAN, the harness looks
for that one thing in the outcome's text: a number however it is written (``65535``,
``65,535``, ``65 535`` with a no-break or thin space), a name as a whole word.
"""

from __future__ import annotations

import re

#: A whole number with thousands separators (comma, no-break space, narrow no-break space), or without.
_NUMBER = re.compile(r"(?<![\d.,])\d{1,3}(?:[,\u00a0\u202f]\d{3})+(?![\d])|(?<![\d.,])\d+(?![\d])")


def numbers_in(text: str) -> list[int]:
    """The whole numbers ``text`` names, separators dropped: ``"above 65,535 W"`` names 65535.

    A number that is part of a longer one, or of a decimal, is not named (``655350``, ``65535.5``).
    """
    found = []
    for match in _NUMBER.finditer(text):
        end = match.end()
        if text[end : end + 1] == "." and text[end + 1 : end + 2].isdigit():
            continue  # the whole part of a decimal
        found.append(int(re.sub(r"\D", "", match.group())))
    return found


def names_number(text: str, number: int) -> bool:
    """Whether ``text`` names the whole number ``number``."""
    return number in numbers_in(text)


def names_word(text: str, name: str) -> bool:
    """Whether ``text`` names ``name`` as a whole (``HAN-A`` is not named by ``HAN-AB``); case is ignored."""
    if not name:
        return False
    return re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", text, re.IGNORECASE) is not None
