"""Open311 API keys: minted by a city administrator, stored as SHA-256 only, revocable.

A key identifies a client application (a city app, a WeChat mini-program
backend, a partner's 311 system), not a person: cases it files have no
reporter, and its idempotency scope is `open311:<key id>`.
"""

from __future__ import annotations

import hashlib
import secrets

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from zhili.audit.services import audit_record
from zhili.core.errors import NotFound, invalid
from zhili.governance.models import Open311Key

KEY_PREFIX = "o311_"
PREFIX_CHARS = 12  # what list-keys shows and revoke-key takes; fits Open311Key.prefix
MAX_KEY_CHARS = 200  # anything longer is not one of ours; refuse before hashing


def key_digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def open311_key_create(*, actor=None, name: str) -> tuple[Open311Key, str]:
    """Mint a key; the raw key is returned once and never stored."""
    name = (name or "").strip()
    if not name:
        raise invalid("name", _("give the key a name (the client it is for)"))
    if len(name) > 100:
        raise invalid("name", _("at most %(n)d characters") % {"n": 100})
    raw = KEY_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        key = Open311Key.objects.create(name=name, prefix=raw[:PREFIX_CHARS],
                                        key_hash=key_digest(raw))
        audit_record(actor=actor, action="open311.key_create", obj=key,
                     detail={"name": name, "prefix": key.prefix})
    return key, raw


def open311_key_revoke(*, actor=None, key: Open311Key) -> Open311Key:
    """Revoke a key; revoking a revoked key changes nothing and writes nothing."""
    with transaction.atomic():
        key = Open311Key.objects.select_for_update().get(pk=key.pk)
        if key.revoked_at is None:
            key.revoked_at = timezone.now()
            key.save(update_fields=["revoked_at"])
            audit_record(actor=actor, action="open311.key_revoke", obj=key,
                         detail={"name": key.name, "prefix": key.prefix})
    return key


def open311_key_by_prefix(prefix: str) -> Open311Key:
    """The one key whose shown prefix starts with `prefix` (for the command line)."""
    prefix = (prefix or "").strip()
    if len(prefix) < 6:
        raise invalid("prefix", _("give at least the first 6 characters of the key"))
    matches = list(Open311Key.objects.filter(prefix__startswith=prefix[:PREFIX_CHARS])[:2])
    if len(prefix) > PREFIX_CHARS:
        # A whole key was pasted: match it exactly.
        matches = [k for k in matches if k.key_hash == key_digest(prefix)] or matches[:0]
    if not matches:
        raise NotFound(_("no Open311 key starts with %(prefix)r") % {"prefix": prefix})
    if len(matches) > 1:
        raise invalid("prefix", _("more than one key starts with that; give more characters"))
    return matches[0]


def open311_key_check(raw: str | None) -> Open311Key | None:
    """The live key for a raw api_key, or None (missing, unknown or revoked)."""
    if not raw or len(raw) > MAX_KEY_CHARS:
        return None
    return Open311Key.objects.filter(key_hash=key_digest(raw), revoked_at__isnull=True).first()
