"""The write paths of the audit log (append, sequence) and its check (verify).

Appending is a plain INSERT in the caller's transaction: the entry carries
the hash of its own content and nothing that depends on other entries, so
audited writes never wait for each other. The worker's sequencer
(`audit_sequence_pending`, a poller in audit/tasks.py) then gives committed
entries consecutive positions in one hash chain, in batches, under a lock
on the single `AuditHead` row that only sequencers take, and signs a tree
head per batch. The chain order is the sequence order, not the id order:
with concurrent writers, a lower id may commit after a higher one was
sequenced; it gets the next free position when it shows up.
See docs/security.md for the design and what an auditor can prove with it.
"""

from __future__ import annotations

import ipaddress
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.ipv6 import clean_ipv6_address

from zhili.audit.chain import (
    GENESIS,
    chain_link,
    content_matches,
    entry_digest,
    hashed_fields,
    head_signature,
    head_signed_here,
)
from zhili.audit.models import AuditEntry, AuditHead, AuditSequence, AuditTreeHead
from zhili.core import atcommit, context

__all__ = ["GENESIS", "HEAD_ID", "Verification", "audit_head", "audit_record", "audit_sequence_pending",
           "audit_sequence_drain", "audit_verify", "entry_digest", "hashed_fields"]

HEAD_ID = 1
MAX_PROBLEMS = 10_000  # a wholesale rewrite would otherwise list millions
SEQUENCE_BATCH = 5000
# Each tail pass looks only at ids above the highest one sequenced at least
# this long ago: an entry below it whose transaction stayed open longer than
# this after its INSERT is left to the full sweep (SWEEP_EVERY).
TAIL_MARGIN = timedelta(seconds=30)
SWEEP_EVERY = timedelta(minutes=10)
DRAIN_BUDGET_S = 2.0  # a worker loop also runs other pollers and tasks


def _text(value, limit: int) -> str:
    # PostgreSQL refuses NUL in text and overlong values; SQLite would keep
    # them. Cut both the same way so the hash covers what is stored.
    return str(value).replace("\x00", "")[:limit]


def _canonical_ip(value: str | None) -> str | None:
    """The address as the database will hand it back (so the hash still matches)."""
    if not value:
        return None
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        return None  # a garbled REMOTE_ADDR must not turn a write into an error
    if address.version == 6:
        return clean_ipv6_address(str(address))
    return str(address)


def _canonical_detail(detail: dict | None) -> dict:
    """What the JSON column will return: plain JSON types, string keys."""
    if not detail:
        return {}
    return json.loads(json.dumps(detail, default=str, ensure_ascii=False).replace("\\u0000", ""))


def _entry_for(*, actor, action, obj, object_type, object_id, area_path, purpose,
               detail) -> AuditEntry:
    """The entry as it will be stored, hashed (content only; no other entry involved)."""
    ctx = context.current()
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or obj.pk
        area_path = area_path or getattr(obj, "area_path", "") or getattr(obj, "path", "")
    if actor is not None and getattr(actor, "is_authenticated", False):
        actor_obj, label = actor, actor.get_username()
    else:
        actor_obj, label = None, "system" if actor is None else "anonymous"
    entry = AuditEntry(
        at=timezone.now(),
        actor=actor_obj,
        actor_label=_text(label, 150),
        action=_text(action, 64),
        object_type=_text(object_type, 64),
        object_id=_text(object_id if object_id is not None else "", 64),
        area_path=_text(area_path or "", 96),
        purpose=_text(purpose or "", 200),
        request_id=_text(ctx.request_id, 64),
        client_ip=_canonical_ip(ctx.client_ip),
        channel=_text(ctx.channel, 16),
        detail=_canonical_detail(detail),
        prev_hash="",
    )
    entry.entry_hash = entry_digest("", hashed_fields(entry))
    return entry


def audit_record(
    *,
    actor,
    action: str,
    obj=None,
    object_type: str = "",
    object_id: str | int = "",
    area_path: str = "",
    purpose: str = "",
    detail: dict | None = None,
) -> AuditEntry:
    """Append one entry. Call it inside the service's transaction: both commit or neither.

    One INSERT, no lock: the sequencer chains the entry after the commit.
    Inside a transaction the INSERT waits for it to commit and is sent with
    the COMMIT, still inside the transaction (core/atcommit.py): until then
    the returned entry has no `pk`. Outside one it is written at once.
    """
    entry = _entry_for(actor=actor, action=action, obj=obj, object_type=object_type,
                       object_id=object_id, area_path=area_path, purpose=purpose, detail=detail)
    if not atcommit.defer(connection, _deferred(entry)):
        # savepoint=False: a failed audit must fail the caller's whole transaction.
        with transaction.atomic(savepoint=False):
            _write(connection, [entry])
    return entry


def _deferred(entry: AuditEntry) -> atcommit.Write:
    def written(pk):
        entry.pk = int(pk)
        entry._state.adding = False
        entry._state.db = connection.alias

    return atcommit.Write(sql=_insert_sql("postgresql"), name=_STATEMENT,
                          params=[getattr(entry, f.attname) for f in _COLUMNS],
                          now=lambda conn: _write(conn, [entry]), result=written)


_COLUMNS = [f for f in AuditEntry._meta.concrete_fields if not f.primary_key]
_INSERT_SQL: dict[str, str] = {}


def _insert_sql(vendor: str) -> str:
    if vendor not in _INSERT_SQL:
        quote = connection.ops.quote_name
        cast = {"client_ip": "::inet"} if vendor == "postgresql" else {}
        sql = (f"INSERT INTO {quote(AuditEntry._meta.db_table)} "
               f"({', '.join(quote(f.column) for f in _COLUMNS)}) "
               f"VALUES ({', '.join('%s' + cast.get(f.attname, '') for f in _COLUMNS)})")
        if connection.features.can_return_columns_from_insert:
            sql += " RETURNING id"
        _INSERT_SQL[vendor] = sql
    return _INSERT_SQL[vendor]


def _write(connection, entries: list[AuditEntry]) -> None:
    """The entries' INSERTs, prepared once per connection on PostgreSQL.

    Every audited write passes here. The ORM's save() (signals, compiling the
    query) and Django's client-side parameter binding (the server parses and
    plans each statement again) cost more than the database's own work:
    bench/audit.py measured this path at about half the time of save().
    Inside a transaction the commit hook (core/atcommit.py) sends them instead.
    """
    if connection.vendor == "postgresql":
        with connection.wrap_database_errors:
            connection.ensure_connection()
            _write_pg(connection.connection, entries)
    else:
        sql = _insert_sql(connection.vendor)
        with connection.wrap_database_errors, connection.cursor() as cursor:
            for entry in entries:
                cursor.execute(sql, [f.get_db_prep_save(getattr(entry, f.attname), connection)
                                     for f in _COLUMNS])
                entry.pk = (cursor.fetchone()[0] if connection.features.can_return_columns_from_insert
                            else cursor.lastrowid)
    for entry in entries:
        entry._state.adding = False
        entry._state.db = connection.alias


def _write_pg(pg, entries: list[AuditEntry]) -> None:
    import psycopg
    from psycopg.types.json import Jsonb

    sql = _insert_sql("postgresql")
    # A server-side binding cursor (Django's own are client-side), so that the
    # statement is parsed and planned once per connection.
    with psycopg.Cursor(pg) as cursor:
        for entry in entries:
            cursor.execute(sql, [Jsonb(entry.detail) if f.attname == "detail"
                                 else getattr(entry, f.attname) for f in _COLUMNS], prepare=True)
            entry.pk = cursor.fetchone()[0]


_STATEMENT = b"zhili_audit_append"


# Sequencing ---------------------------------------------------------------------------------

def _locked_head() -> AuditHead:
    """Lock the head row (sequencers only; SQLite's IMMEDIATE transactions serialise instead)."""
    head = AuditHead.objects.select_for_update().filter(pk=HEAD_ID).first()
    if head is None:
        # The migration creates the head; a flushed database may lack it.
        AuditHead.objects.bulk_create([AuditHead(pk=HEAD_ID, last_hash=GENESIS, last_seq=0)],
                                      ignore_conflicts=True)
        head = AuditHead.objects.select_for_update().get(pk=HEAD_ID)
    return head


def tail_floor(now: datetime) -> int:
    """The highest entry id sequenced at least TAIL_MARGIN before `now` (0 if none)."""
    floor = (AuditTreeHead.objects.filter(at__lte=now - TAIL_MARGIN).order_by("-at")
             .values_list("max_entry_id", flat=True).first())
    return floor or 0


def unsequenced_entries():
    return AuditEntry.objects.filter(~Exists(AuditSequence.objects.filter(entry=OuterRef("pk"))))


def audit_head() -> AuditTreeHead | None:
    """The newest signed tree head: what to publish outside the database."""
    return AuditTreeHead.objects.order_by("-last_seq").first()


def audit_sequence_pending(*, full: bool = False, batch_size: int = SEQUENCE_BATCH,
                           now: datetime | None = None) -> int:
    """Chain one batch of committed, unsequenced entries and sign its tree head; return
    how many. The tail pass looks above `tail_floor`; `full=True` looks at every entry."""
    with transaction.atomic():
        head = _locked_head()
        floor = 0 if full else tail_floor(now or timezone.now())
        rows = list(unsequenced_entries().filter(id__gt=floor).order_by("id")
                    .values_list("id", "entry_hash")[:batch_size])
        if not rows:
            return 0
        seq, chain = head.last_seq, head.last_hash
        positions = []
        for entry_id, entry_hash in rows:
            seq += 1
            chain = chain_link(chain, seq, entry_id, entry_hash)
            positions.append(AuditSequence(seq=seq, entry_id=entry_id, chain_hash=chain))
        AuditSequence.objects.bulk_create(positions)
        previous_max = (AuditTreeHead.objects.order_by("-last_seq")
                        .values_list("max_entry_id", flat=True).first()) or 0
        at = timezone.now()
        first = head.last_seq + 1
        AuditTreeHead.objects.create(
            first_seq=first, last_seq=seq, chain_hash=chain, at=at,
            max_entry_id=max(previous_max, rows[-1][0]),
            signature=head_signature(first, seq, chain, at),
        )
        AuditHead.objects.filter(pk=HEAD_ID).update(last_seq=seq, last_hash=chain)
    return len(rows)


_last_sweep = 0.0  # monotonic time of this process's last full sweep; 0: none yet


def audit_sequence_drain(*, budget_s: float = DRAIN_BUDGET_S) -> int:
    """What the worker calls each loop: tail batches until caught up or out of time,
    and a full sweep for stragglers when this process has not done one for SWEEP_EVERY."""
    global _last_sweep
    started = time.monotonic()
    done = 0
    if _last_sweep == 0.0 or started - _last_sweep >= SWEEP_EVERY.total_seconds():
        while time.monotonic() - started < budget_s:
            n = audit_sequence_pending(full=True)
            done += n
            if n < SEQUENCE_BATCH:
                _last_sweep = started  # finished; an unfinished sweep goes on next loop
                break
    while time.monotonic() - started < budget_s:
        n = audit_sequence_pending()
        done += n
        if n < SEQUENCE_BATCH:
            break
    return done


# Verification -------------------------------------------------------------------------------

@dataclass
class Verification:
    checked: int = 0  # sequenced entries checked
    problems: list[str] = field(default_factory=list)
    unsequenced: int = 0  # appended, not yet sequenced: counted, never trusted
    oldest_unsequenced_at: datetime | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    def problem(self, text: str) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(text)
        elif len(self.problems) == MAX_PROBLEMS:
            self.problems.append(f"… more problems not listed (stopped at {MAX_PROBLEMS})")


def audit_verify(
    *, batch_size: int = 5000, progress: Callable[[int, int], None] | None = None,
    anchors: dict[int, str] | None = None,
) -> Verification:
    """Walk the chain from position 1 to the head; check every entry, link and tree head.

    The head is read first and the walk stops at its position, so batches
    sequenced while the walk runs are left for the next run. Entries not yet
    sequenced are counted apart. `progress(checked, total)` follows each batch.
    `anchors` maps positions to chain hashes published earlier (`zhili audit
    head`): the chain must still pass through each of them.
    """
    result = Verification()
    anchors = dict(anchors or {})
    head = AuditHead.objects.filter(pk=HEAD_ID).first()
    last_seq = head.last_seq if head else None
    positions = AuditSequence.objects.order_by("seq")
    trees = AuditTreeHead.objects.order_by("last_seq")
    if last_seq is not None:
        positions = positions.filter(seq__lte=last_seq)
        trees = trees.filter(last_seq__lte=last_seq)
    total = last_seq if last_seq is not None else positions.count()
    walk = _Walk(result, trees.iterator(chunk_size=2000), set(anchors))
    cursor = 0
    while True:
        batch = list(positions.filter(seq__gt=cursor)[:batch_size])
        if not batch:
            break
        entries = AuditEntry.objects.in_bulk([p.entry_id for p in batch])
        for position in batch:
            walk.step(position, entries.get(position.entry_id))
        cursor = batch[-1].seq
        if progress:
            progress(result.checked, total)
    walk.finish(head)
    for seq, expected in sorted(anchors.items()):
        found = walk.anchored.get(seq)
        if found is None:
            result.problem(f"the published head at position {seq} is not in the chain "
                           "(the newest entries were cut off)")
        elif found != expected:
            result.problem(f"the published head at position {seq} does not match the chain "
                           "(history up to it was rewritten)")
    pending = unsequenced_entries()
    result.unsequenced = pending.count()
    if result.unsequenced:
        result.oldest_unsequenced_at = pending.order_by("id").values_list("at", flat=True).first()
    return result


class _Walk:
    """The state of one verify walk along the positions, in order."""

    def __init__(self, result: Verification, trees, anchor_seqs: set[int]):
        self.result, self.trees = result, trees
        self.anchor_seqs, self.anchored = anchor_seqs, {}  # seq -> stored chain hash
        self.tree = next(trees, None)
        self.expected = 1  # the next position
        self.chain = GENESIS
        self.legacy_prev = GENESIS  # the old chain's link, for entries from before 0005
        self.covered = 0  # the last position a tree head covers

    def step(self, position: AuditSequence, entry: AuditEntry | None) -> None:
        problem = self.result.problem
        seq = position.seq
        gap = seq != self.expected
        if gap:
            problem(f"positions {self.expected}–{seq - 1} are missing (deleted)"
                    if seq > self.expected + 1 else f"position {self.expected} is missing (deleted)")
        if entry is None:
            problem(f"entry {position.entry_id} (position {seq}) is missing (deleted)")
        else:
            if not content_matches(entry):
                problem(f"entry {entry.pk} (position {seq}): its content does not match "
                        "its hash (edited)")
            if entry.prev_hash:
                if entry.prev_hash != self.legacy_prev:
                    problem(f"entry {entry.pk} (position {seq}): its link in the chain from "
                            "before the sequencer is broken (an entry was deleted, inserted "
                            "or rewritten)")
                self.legacy_prev = entry.entry_hash
            if not gap and chain_link(self.chain, seq, entry.pk, entry.entry_hash) != position.chain_hash:
                problem(f"position {seq} (entry {entry.pk}) does not follow from the chain "
                        "before it (the entry was rehashed, or positions were deleted, "
                        "inserted or reordered)")
        # Carry on from the stored hash, so one break is reported once: the stored
        # hashes at batch ends are pinned by signed tree heads (checked below).
        self.chain = position.chain_hash
        if seq in self.anchor_seqs:
            self.anchored[seq] = position.chain_hash
        self.expected = seq + 1
        self.result.checked += 1
        while self.tree is not None and self.tree.last_seq <= seq:
            self._check_tree(self.tree, position)
            self.tree = next(self.trees, None)

    def _check_tree(self, tree: AuditTreeHead, position: AuditSequence) -> None:
        problem = self.result.problem
        if tree.first_seq != self.covered + 1:
            problem(f"the signed tree heads for positions {self.covered + 1}–{tree.first_seq - 1} "
                    "are missing (deleted)")
        if tree.last_seq != position.seq:
            problem(f"tree head at position {tree.last_seq}: that position is missing")
        elif tree.chain_hash != position.chain_hash:
            problem(f"tree head at position {tree.last_seq} does not match the chain "
                    "(positions up to it were rewritten)")
        if not head_signed_here(tree):
            problem(f"tree head at position {tree.last_seq}: its signature is not valid "
                    "(forged, or signed with a key this server does not hold)")
        self.covered = tree.last_seq

    def finish(self, head: AuditHead | None) -> None:
        problem = self.result.problem
        last = self.expected - 1
        if head is None:
            if last:
                problem("the chain head is missing (it was deleted)")
            return
        if head.last_seq and not last:
            problem(f"every position up to {head.last_seq} is missing (the log was emptied)")
            return
        if last != head.last_seq:
            problem(f"the newest entries are missing: the head names position {head.last_seq}, "
                    f"the last one found is {last}")
        elif last and head.last_hash != self.chain:
            problem(f"the head does not match the chain at position {last}")
        if self.covered < last:
            problem(f"positions {self.covered + 1}–{last} have no signed tree head")
