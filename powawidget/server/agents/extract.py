"""What a message mentions, as values: numbers, unit conversions, sums, places, seats, periods.

Pure text → value helpers the demo agent's reading rules (reading.py) build intents from.
"""

from __future__ import annotations

import re

from powawidget.server.tools import unit_key

PLACES = {
    "utc": "UTC",
    "gmt": "UTC",
    "london": "Europe/London",
    "paris": "Europe/Paris",
    "berlin": "Europe/Berlin",
    "amsterdam": "Europe/Amsterdam",
    "madrid": "Europe/Madrid",
    "new york": "America/New_York",
    "chicago": "America/Chicago",
    "toronto": "America/Toronto",
    "san francisco": "America/Los_Angeles",
    "los angeles": "America/Los_Angeles",
    "seattle": "America/Los_Angeles",
    "sao paulo": "America/Sao_Paulo",
    "tokyo": "Asia/Tokyo",
    "singapore": "Asia/Singapore",
    "mumbai": "Asia/Kolkata",
    "india": "Asia/Kolkata",
    "sydney": "Australia/Sydney",
}
NUMBER = r"(-?\d+(?:[.,]\d+)?)"
UNIT = r"([a-zA-Z°\"']+(?:\s[a-zA-Z]+)?)"


def _number(text: str) -> float:
    """A number written with a dot or a decimal comma."""
    return float(text.replace(",", "."))


def find_conversion(text: str) -> tuple[float, str, str] | None:
    """(value, from_unit, to_unit) for "5 km to miles" or "how many pounds is 2 kg"."""
    patterns = [
        (rf"{NUMBER}\s*{UNIT}\s+(?:to|in|into|as)\s+{UNIT}", (1, 2, 3)),
        (rf"how many\s+{UNIT}\s+(?:is|are|in|make|does)\s+{NUMBER}\s*{UNIT}", (2, 3, 1)),
    ]
    for pattern, (v, a, b) in patterns:
        for match in re.finditer(pattern, text, re.IGNORECASE):
            source, target = match.group(a), match.group(b)
            # Allow a trailing word after a one-word unit ("miles please").
            for s in (source, source.split()[0]):
                for t in (target, target.split()[0]):
                    ks, kt = unit_key(s), unit_key(t)
                    if ks and kt and ks[0] == kt[0]:
                        return (_number(match.group(v)), s, t)
    return None


def find_expression(text: str) -> str | None:
    """An arithmetic expression in the message ("12*7+3", "15% of 240" → "15 / 100 * 240")."""
    percent = re.search(rf"{NUMBER}\s*%\s+of\s+\$?{NUMBER}", text)
    if percent:
        return f"{percent.group(1)} / 100 * {percent.group(2)}"
    candidates = re.findall(r"[-+*/×÷^%().\d\s]+", text.replace("**", "^"))
    for candidate in sorted(candidates, key=len, reverse=True):
        expression = candidate.strip().replace("^", "**")
        if re.search(r"\d\s*(?:\*\*|[-+*/×÷%])\s*[-+(]?\s*\.?\d", expression):
            return expression
    return None


def find_timezone(text: str) -> tuple[str, str | None]:
    """(IANA timezone, place as written) named in the message, default ("UTC", None)."""
    iana = re.search(r"\b([A-Z][a-z]+/[A-Z][A-Za-z_]+(?:/[A-Z][A-Za-z_]+)?)\b", text)
    if iana:
        return iana.group(1), iana.group(1)
    lowered = text.lower()
    for place, zone in PLACES.items():
        if re.search(rf"\b{place}\b", lowered):
            return zone, place.title() if place not in ("utc", "gmt") else place.upper()
    return "UTC", None


def find_quantity(text: str) -> int | None:
    """How many seats/users/units the message asks about ("3 seats", "for 10 people")."""
    words = {
        "one": 1,
        "two": 2,
        "three": 3,
        "four": 4,
        "five": 5,
        "six": 6,
        "seven": 7,
        "eight": 8,
        "nine": 9,
        "ten": 10,
        "twenty": 20,
    }
    match = re.search(
        r"\b(\d+|" + "|".join(words) + r")\s*(?:seats?|users?|people|persons?|licen[cs]es?|"
        r"members?|employees?|units?|devices?|hubs?|of)\b",
        text,
        re.IGNORECASE,
    ) or re.search(r"\bfor (\d+)\b(?!\s*(?:months?|years?|days?))", text, re.IGNORECASE)
    if not match:
        return None
    token = match.group(1).lower()
    return int(token) if token.isdigit() else words[token]


def find_months(text: str) -> int:
    """Billing period in months: 12 for "a year"/"annual", N for "N months", else 1."""
    lowered = text.lower()
    match = re.search(r"\b(\d+)\s*(months?|years?)\b", lowered)
    if match:
        n = int(match.group(1))
        return n * 12 if match.group(2).startswith("year") else n
    if re.search(r"\b(year|yearly|annual|annually|per annum)\b", lowered):
        return 12
    return 1
