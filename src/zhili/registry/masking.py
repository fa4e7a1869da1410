"""Masks for personal data: what every response shows unless a reveal is asked for.

Each mask keeps just enough to tell records apart at a counter or on a
phone screen (the region and the last digits of a number, a surname, a
street), never enough to contact or impersonate someone. Masks never fail:
any string (even a malformed one) comes back masked.
"""

from __future__ import annotations

import re

STAR = "*"


def _keep(value: str, head: int, tail: int) -> str:
    """Keep `head` leading and `tail` trailing characters; star the rest.

    Values too short to keep that much are starred out completely but the
    last character, so short values never show more than one character.
    """
    value = value or ""
    if not value:
        return ""
    if len(value) <= head + tail:
        return STAR * (len(value) - 1) + value[-1] if len(value) > 2 else STAR * len(value)
    return value[:head] + STAR * (len(value) - head - tail) + (value[-tail:] if tail else "")


def mask_id_number(value: str) -> str:
    """`500103199001011234` -> `500103********1234` (region and last four)."""
    return _keep(value, 6, 4)


def mask_phone(value: str) -> str:
    """`13812345678` -> `138****5678`; other numbers keep 3 leading and 4 trailing digits."""
    return _keep((value or "").strip(), 3, 4)


def mask_name(value: str) -> str:
    """`张三丰` -> `张**`: the first character only.

    Names written in parts with a middle dot (many minority and foreign
    names, and the demo's `示例·张伟`) keep the first character of each part:
    `阿依古丽·买买提` -> `阿***·买**`, like initials.
    """
    value = (value or "").strip()
    if not value:
        return ""
    if "·" in value:
        return "·".join(mask_name(part) if part else "" for part in value.split("·"))
    return value[0] + STAR * max(len(value) - 1, 1)


# The street/town part is a name right after the district (区/县) ending in
# 街道/镇/乡: a road such as 镇江路 or 民族路188号 does not count.
_DISTRICT_END = re.compile(r"[区县旗]")
_STREET = re.compile(r"[^\d\s路街号]{1,10}?(?:街道|镇|乡)")


def mask_address(value: str) -> str:
    """Keep the city/district/street part, star the rest.

    `重庆市渝中区解放碑街道民族路188号3栋` -> `重庆市渝中区解放碑街道****`.
    With no street marker the district part is kept; with neither, nothing.
    """
    value = (value or "").strip()
    if not value:
        return ""
    district = _DISTRICT_END.search(value)
    keep = district.end() if district else 0
    street = _STREET.match(value, keep)
    if street:
        keep = street.end()
    if keep >= len(value):
        return value
    return value[:keep] + STAR * 4


def mask_credit_code(value: str) -> str:
    """`91500103MA5U123456` -> `91500103********56`: authority, type and region kept.

    The first 8 characters say what kind of body registered where; the last
    two tell codes apart in a list. The organisation code in between is hidden.
    """
    return _keep(value, 8, 2)


def mask_certificate_number(value: str) -> str:
    """Long numbers (often containing an identity number) keep 6 + 4, shorter ones 2 + 2."""
    value = value or ""
    if len(value) >= 12:
        return _keep(value, 6, 4)
    return _keep(value, 2, 2)
