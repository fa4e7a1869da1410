"""Acknowledgement links: a recipient without a login says "received" from a phone.

A message whose `link` holds `{ack}` gets, per delivery, a token signed with
the secret key (django.core.signing, salted): it names the delivery and the
time it was made, so it cannot be guessed or moved to another delivery, and
it expires (`ZHILI_ACK_LINK_HOURS`, default 72). It is single-use in effect:
the first acknowledgement counts, a second click changes nothing. The page
asks for a press of a button (POST): a link preview fetching the URL must not
acknowledge for the person.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing

SALT = "zhili.notifications.ack"
PLACEHOLDER = "{ack}"


def max_age_seconds() -> int:
    return int(getattr(settings, "ZHILI_ACK_LINK_HOURS", 72)) * 3600


def ack_token(delivery_id: int) -> str:
    return signing.TimestampSigner(salt=SALT).sign(signing.b62_encode(delivery_id))


def delivery_of(token: str) -> int:
    """The delivery id a valid, unexpired token names; signing.BadSignature (or its
    subclass SignatureExpired) otherwise."""
    value = signing.TimestampSigner(salt=SALT).unsign(str(token)[:200], max_age=max_age_seconds())
    return signing.b62_decode(value)


def rendered(link: str, delivery_id: int) -> str:
    return link.replace(PLACEHOLDER, ack_token(delivery_id)) if PLACEHOLDER in link else link
