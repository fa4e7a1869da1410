"""The audit log's hashes, kept pure: an entry's digest, a chain link, a tree head's signature.

- entry: SHA-256(prev_hash + canonical JSON of its fields); prev_hash is ""
  for entries appended since the sequencer (migration 0005), and the previous
  entry's hash for the entries of the old single chain, which keep theirs.
- link: SHA-256("prev chain hash:seq:entry id:entry hash"), so a position
  binds its number, its entry and that entry's content to everything before.
- tree head: HMAC-SHA256 over "first_seq:last_seq:chain hash:at" with a key
  derived from SECRET_KEY (Django's salted_hmac). Whoever rewrites the
  database without that key cannot make a tree head that verifies.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC

from django.conf import settings
from django.utils.crypto import constant_time_compare, salted_hmac

GENESIS = "0" * 64
HEAD_SALT = "zhili.audit.tree_head.v1"


def entry_digest(prev_hash: str, fields: dict) -> str:
    """SHA-256 over the (legacy) previous hash and this entry's canonical JSON."""
    body = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256((prev_hash + body).encode()).hexdigest()


def hashed_fields(entry) -> dict:
    return {
        "at": entry.at.astimezone(UTC).isoformat(),
        "actor_id": entry.actor_id,
        "actor_label": entry.actor_label,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "area_path": entry.area_path,
        "purpose": entry.purpose,
        "request_id": entry.request_id,
        "client_ip": entry.client_ip,
        "channel": entry.channel,
        "detail": entry.detail,
    }


def content_matches(entry) -> bool:
    return entry_digest(entry.prev_hash, hashed_fields(entry)) == entry.entry_hash


def chain_link(prev_chain: str, seq: int, entry_id: int, entry_hash: str) -> str:
    return hashlib.sha256(f"{prev_chain}:{seq}:{entry_id}:{entry_hash}".encode()).hexdigest()


def head_message(first_seq: int, last_seq: int, chain_hash: str, at) -> str:
    return f"{first_seq}:{last_seq}:{chain_hash}:{at.astimezone(UTC).isoformat()}"


def head_signature(first_seq: int, last_seq: int, chain_hash: str, at, *, secret=None) -> str:
    message = head_message(first_seq, last_seq, chain_hash, at)
    return salted_hmac(HEAD_SALT, message, secret=secret, algorithm="sha256").hexdigest()


def head_signed_here(tree_head) -> bool:
    """True if the head was signed with SECRET_KEY or one of SECRET_KEY_FALLBACKS."""
    keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return any(
        constant_time_compare(
            head_signature(tree_head.first_seq, tree_head.last_seq, tree_head.chain_hash,
                           tree_head.at, secret=key),
            tree_head.signature)
        for key in keys
    )
