"""The sequenced chain: appends are hashed alone, the sequencer chains and signs them in
batches, and `zhili audit verify` finds every kind of tampering."""

import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from zhili.audit.chain import entry_digest, hashed_fields
from zhili.audit.models import AuditEntry, AuditHead, AuditSequence, AuditTreeHead
from zhili.audit.services import (
    HEAD_ID,
    TAIL_MARGIN,
    _entry_for,
    audit_record,
    audit_sequence_pending,
    audit_verify,
)
from zhili.core import context


def sequence_all():
    while audit_sequence_pending(full=True):
        pass


@pytest.fixture
def chain(db, city_admin, grid):
    """Five fresh entries at the end of the (already valid) seeded log, all sequenced."""
    entries = [audit_record(actor=city_admin, action="test.step", area_path=grid.path,
                            purpose=f"step {i}", detail={"i": i}) for i in range(5)]
    sequence_all()
    return entries


def seq_of(entry) -> int:
    return AuditSequence.objects.get(entry=entry).seq


def test_an_append_is_hashed_alone_and_sequenced_later(db, city_admin):
    entry = audit_record(actor=city_admin, action="test.step")
    assert entry.prev_hash == ""
    assert entry.entry_hash == entry_digest("", hashed_fields(entry))
    assert not AuditSequence.objects.filter(entry=entry).exists()
    result = audit_verify()
    assert result.problems == [] and result.unsequenced >= 1

    sequence_all()
    result = audit_verify()
    assert (result.problems, result.unsequenced) == ([], 0)
    assert result.checked == AuditEntry.objects.count()


def test_the_worker_loop_sequences_what_was_appended(db):
    from zhili.core.tasks_worker import drain

    entry = audit_record(actor=None, action="test.step")
    drain()
    assert AuditSequence.objects.filter(entry=entry).exists()
    assert audit_verify().unsequenced == 0


def test_each_batch_moves_the_head_and_signs_a_tree_head(chain):
    position = AuditSequence.objects.get(entry=chain[-1])
    head = AuditHead.objects.get(pk=HEAD_ID)
    tree = AuditTreeHead.objects.order_by("-last_seq").first()
    assert (head.last_seq, head.last_hash) == (position.seq, position.chain_hash)
    assert (tree.last_seq, tree.chain_hash) == (position.seq, position.chain_hash)
    assert [seq_of(e) for e in chain] == list(range(seq_of(chain[0]), seq_of(chain[0]) + 5))


def test_nothing_to_sequence_writes_nothing(chain):
    heads = AuditTreeHead.objects.count()
    assert audit_sequence_pending() == 0
    assert AuditTreeHead.objects.count() == heads


def test_who_what_where_and_why_are_recorded(db, street_operator, grid):
    with context.bind(context.RequestContext("req-12345678", client_ip="10.1.2.3", channel="api")):
        entry = audit_record(actor=street_operator, action="person.reveal", obj=grid,
                             purpose="visit an elderly resident")
    entry.refresh_from_db()
    assert entry.actor_id == street_operator.pk and entry.actor_label == "street_op1"
    assert (entry.object_type, entry.object_id) == ("geo.areanode", str(grid.pk))
    assert entry.area_path == grid.path
    assert (entry.request_id, entry.client_ip, entry.channel) == ("req-12345678", "10.1.2.3", "api")
    assert entry.purpose == "visit an elderly resident"


def test_commands_record_as_system(db):
    assert audit_record(actor=None, action="test.job").actor_label == "system"


def test_an_audit_rolled_back_with_its_transaction_leaves_nothing(db):
    with pytest.raises(RuntimeError), transaction.atomic():
        gone = audit_record(actor=None, action="test.rolled_back")
        raise RuntimeError
    assert gone.pk is None and not AuditEntry.objects.filter(action="test.rolled_back").exists()
    sequence_all()
    assert audit_verify().problems == []


@pytest.mark.parametrize("address", ["2001:DB8:0:0:0:0:0:1", "::ffff:10.0.0.1", "not-an-ip", ""])
def test_odd_values_still_verify_after_the_database_round_trip(db, address):
    with context.bind(context.RequestContext("req-odd-values", client_ip=address)):
        audit_record(
            actor=None, action="test.odd", purpose="nul\x00byte " + "x" * 300,
            detail={1: "int key", "when": dt.date(2026, 1, 2), "pair": (1, 2), "text": "a\x00b",
                    "float": 0.1, "nested": {"b": [1, {"c": None}], "a": "重庆"}},
        )
    sequence_all()
    assert audit_verify().problems == []


def test_identical_content_twice_is_two_entries(db):
    """The entry hash covers content only, so it may repeat; the chain tells them apart."""
    first = _entry_for(actor=None, action="test.same", obj=None, object_type="", object_id="",
                       area_path="", purpose="", detail=None)
    twin = AuditEntry(**{f.attname: getattr(first, f.attname) for f in AuditEntry._meta.fields
                         if f.attname != "id"})
    first.save()
    twin.save()
    sequence_all()
    assert first.entry_hash == twin.entry_hash
    assert audit_verify().problems == []


def committed_late(action: str, pk: int) -> AuditEntry:
    """An entry with the id it drew earlier, committed now (as a long transaction would)."""
    entry = _entry_for(actor=None, action=action, obj=None, object_type="", object_id="",
                       area_path="", purpose="", detail=None)
    entry.pk = pk
    AuditEntry.objects.bulk_create([entry])
    return entry


def test_a_straggler_below_the_tail_is_found_by_the_full_sweep(db):
    """An id drawn early and committed late (a long transaction) is not skipped for ever."""
    top = AuditEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0
    committed_late("test.later", top + 2)
    sequence_all()
    straggler = committed_late("test.early", top + 1)  # below ids already sequenced

    later = timezone.now() + TAIL_MARGIN * 2
    assert audit_sequence_pending(now=later) == 0  # below the tail's floor
    result = audit_verify()
    assert (result.problems, result.unsequenced) == ([], 1)
    assert result.oldest_unsequenced_at == straggler.at

    assert audit_sequence_pending(full=True) == 1
    assert audit_verify().unsequenced == 0
    assert seq_of(straggler) == AuditHead.objects.get(pk=HEAD_ID).last_seq


def test_a_straggler_within_the_margin_is_found_by_the_tail(db):
    top = AuditEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0
    committed_late("test.later", top + 2)
    sequence_all()
    committed_late("test.early", top + 1)
    assert audit_sequence_pending() == 1


# Tampering (as the database owner, triggers lifted) -----------------------------------------

def test_an_edited_entry_is_reported(chain, tamper):
    tamper("UPDATE audit_auditentry SET purpose = 'nothing to see' WHERE id = %s", [chain[2].pk])
    assert audit_verify().problems == [
        f"entry {chain[2].pk} (position {seq_of(chain[2])}): its content does not match "
        "its hash (edited)"]


def test_an_edited_and_rehashed_entry_breaks_its_link(chain, tamper):
    entry = chain[1]
    entry.purpose = "nothing to see"
    tamper("UPDATE audit_auditentry SET purpose = %s, entry_hash = %s WHERE id = %s",
           [entry.purpose, entry_digest("", hashed_fields(entry)), entry.pk])
    problems = audit_verify().problems
    assert problems == [f"position {seq_of(entry)} (entry {entry.pk}) does not follow from the "
                        "chain before it (the entry was rehashed, or positions were deleted, "
                        "inserted or reordered)"]


def test_a_rewritten_chain_does_not_match_its_signed_tree_head(chain, tamper):
    """Rehash an entry and every chain hash after it, and move the head: the signed tree
    head, which the attacker cannot re-sign without SECRET_KEY, still gives it away."""
    from zhili.audit.chain import chain_link

    entry = chain[1]
    entry.purpose = "nothing to see"
    new_hash = entry_digest("", hashed_fields(entry))
    tamper("UPDATE audit_auditentry SET purpose = %s, entry_hash = %s WHERE id = %s",
           [entry.purpose, new_hash, entry.pk])
    start = seq_of(entry)
    prev = AuditSequence.objects.get(seq=start - 1).chain_hash
    for position in AuditSequence.objects.filter(seq__gte=start).select_related("entry"):
        prev = chain_link(prev, position.seq, position.entry_id, position.entry.entry_hash)
        tamper("UPDATE audit_auditsequence SET chain_hash = %s WHERE seq = %s", [prev, position.seq])
    tamper("UPDATE audit_audithead SET last_hash = %s", [prev])
    trees = list(AuditTreeHead.objects.filter(last_seq__gte=start).order_by("last_seq"))
    assert audit_verify().problems == [
        f"tree head at position {t.last_seq} does not match the chain (positions up to it "
        "were rewritten)" for t in trees]

    # Bring the newest tree head in line too: its signature no longer holds.
    last = trees[-1].last_seq
    tamper("UPDATE audit_audittreehead SET chain_hash = %s WHERE last_seq = %s", [prev, last])
    assert audit_verify().problems[-1] == (
        f"tree head at position {last}: its signature is not valid (forged, or signed with "
        "a key this server does not hold)")


def test_tree_heads_signed_with_another_key_are_reported(chain):
    with override_settings(SECRET_KEY="another-key-" * 5, SECRET_KEY_FALLBACKS=[]):
        problems = audit_verify().problems
    assert problems and all("its signature is not valid" in p for p in problems)


def test_tree_heads_verify_with_a_retired_key_kept_as_fallback(chain):
    from django.conf import settings

    with override_settings(SECRET_KEY="the-new-key-" * 5, SECRET_KEY_FALLBACKS=[settings.SECRET_KEY]):
        assert audit_verify().problems == []


def test_a_deleted_entry_in_the_middle_is_reported(chain, tamper):
    tamper("DELETE FROM audit_auditentry WHERE id = %s", [chain[2].pk])
    assert audit_verify().problems == [
        f"entry {chain[2].pk} (position {seq_of(chain[2])}) is missing (deleted)"]


def test_a_deleted_entry_and_its_position_are_reported(chain, tamper):
    seq = seq_of(chain[2])
    tamper("DELETE FROM audit_auditsequence WHERE seq = %s", [seq])
    tamper("DELETE FROM audit_auditentry WHERE id = %s", [chain[2].pk])
    assert audit_verify().problems == [f"position {seq} is missing (deleted)"]


def test_an_entry_inserted_into_the_chain_is_reported(chain, tamper):
    """Make room at a position (shift the later ones up) and put a forged entry there."""
    from zhili.audit.chain import chain_link

    seq = seq_of(chain[2])
    forged = _entry_for(actor=None, action="test.forged", obj=None, object_type="",
                        object_id="", area_path="", purpose="backdated", detail=None)
    forged.at = chain[1].at
    forged.entry_hash = entry_digest("", hashed_fields(forged))
    forged.save()
    tamper("UPDATE audit_auditsequence SET seq = -seq - 1 WHERE seq >= %s", [seq])
    tamper("UPDATE audit_auditsequence SET seq = -seq WHERE seq < 0")
    prev = AuditSequence.objects.get(seq=seq - 1).chain_hash
    tamper("INSERT INTO audit_auditsequence (seq, entry_id, chain_hash) VALUES (%s, %s, %s)",
           [seq, forged.pk, chain_link(prev, seq, forged.pk, forged.entry_hash)])
    tamper("UPDATE audit_audithead SET last_seq = last_seq + 1")
    problems = audit_verify().problems
    assert problems[0] == (f"position {seq + 1} (entry {chain[2].pk}) does not follow from the "
                           "chain before it (the entry was rehashed, or positions were deleted, "
                           "inserted or reordered)")


def test_an_entry_appended_behind_the_sequencers_back_is_not_trusted(chain, tamper):
    tamper("INSERT INTO audit_auditentry (at, actor_label, action, object_type, object_id, "
           "area_path, purpose, request_id, channel, detail, prev_hash, entry_hash) VALUES "
           "(%s, 'admin', 'test.forged', '', '', '', '', 'r', 'system', '{}', '', %s)",
           [chain[0].at, "f" * 64])
    result = audit_verify()
    assert (result.problems, result.unsequenced) == ([], 1)


def test_reordered_entries_are_reported(chain, tamper):
    a, b = seq_of(chain[1]), seq_of(chain[3])
    tamper("UPDATE audit_auditsequence SET entry_id = -1 WHERE seq = %s", [a])
    tamper("UPDATE audit_auditsequence SET entry_id = %s WHERE seq = %s", [chain[1].pk, b])
    tamper("UPDATE audit_auditsequence SET entry_id = %s WHERE seq = %s", [chain[3].pk, a])
    problems = audit_verify().problems
    assert len(problems) == 2
    assert problems[0].startswith(f"position {a} (entry {chain[3].pk}) does not follow")
    assert problems[1].startswith(f"position {b} (entry {chain[1].pk}) does not follow")


def test_deleted_newest_entries_are_reported(chain, tamper):
    tamper("DELETE FROM audit_auditsequence WHERE seq >= %s", [seq_of(chain[3])])
    head = AuditHead.objects.get(pk=HEAD_ID).last_seq
    problems = audit_verify().problems
    assert (f"the newest entries are missing: the head names position {head}, "
            f"the last one found is {seq_of(chain[2])}") in problems


def test_a_deleted_tree_head_is_reported(chain, tamper):
    tree = AuditTreeHead.objects.order_by("-last_seq").first()
    tamper("DELETE FROM audit_audittreehead WHERE id = %s", [tree.pk])
    assert audit_verify().problems == [
        f"positions {tree.first_seq}–{tree.last_seq} have no signed tree head"]


def test_an_emptied_log_is_reported(chain, tamper):
    head = AuditHead.objects.get(pk=HEAD_ID).last_seq
    tamper("DELETE FROM audit_auditsequence")
    tamper("DELETE FROM audit_auditentry")
    result = audit_verify()
    assert result.checked == 0
    assert result.problems == [f"every position up to {head} is missing (the log was emptied)"]


def test_a_deleted_head_is_reported(chain, tamper):
    tamper("DELETE FROM audit_audithead")
    assert audit_verify().problems == ["the chain head is missing (it was deleted)"]


def test_batches_sequenced_during_the_walk_are_left_for_the_next_run(chain):
    seen = []

    def progress(checked, total):
        if not seen:
            audit_record(actor=None, action="test.meanwhile")
            sequence_all()
        seen.append((checked, total))

    result = audit_verify(batch_size=2, progress=progress)
    assert result.problems == []
    assert result.checked == seen[-1][1] == AuditEntry.objects.count() - 1


# The command ------------------------------------------------------------------------------

def run(*args):
    out, err = StringIO(), StringIO()
    call_command("audit", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_verify_command_says_ok_with_the_count(chain):
    out, err = run("verify", "--batch-size", "3")
    total = AuditEntry.objects.count()
    assert out.strip() == f"OK: {total:,} entries, the chain is intact"
    assert f"checked {total:,} of {total:,} entries" in err


def test_verify_command_names_entries_not_yet_sequenced(chain):
    audit_record(actor=None, action="test.fresh")
    out, _ = run("verify")
    total = AuditEntry.objects.count()
    assert out.startswith("NOT YET SEQUENCED 1 entries appended, not yet sequenced (not checked")
    assert out.strip().endswith(f"OK: {total - 1:,} entries, the chain is intact")


def test_sequence_command_chains_what_was_appended(db):
    audit_record(actor=None, action="test.fresh")
    out, _ = run("sequence")
    assert out.startswith("OK: ") and out.strip().endswith("entries sequenced")
    assert audit_verify().unsequenced == 0


def test_verify_command_lists_every_problem_and_fails(chain, tamper):
    tamper("UPDATE audit_auditentry SET action = 'x' WHERE id = %s", [chain[0].pk])
    tamper("DELETE FROM audit_auditentry WHERE id = %s", [chain[3].pk])
    with pytest.raises(CommandError) as failure:
        run("verify")
    assert failure.value.returncode == 1
    assert "2 problem(s)" in str(failure.value)


def test_verify_command_prints_problems_on_stdout(chain, tamper):
    tamper("DELETE FROM audit_auditentry WHERE id = %s", [chain[1].pk])
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("audit", "verify", stdout=out, stderr=StringIO())
    assert f"PROBLEM entry {chain[1].pk} (position {seq_of(chain[2]) - 1}) is missing" in out.getvalue()


def test_search_command_filters(chain, city_admin):
    out, err = run("search", "--actor", "admin", "--action", "test.st", "--purpose", "STEP 3")
    assert out.count("\n") == 1 and f"#{chain[3].pk} " in out and "step 3" in out
    out, _ = run("search", "--action", "test.step", "--limit", "2", "--json")
    assert out.count("\n") == 2 and '"action": "test.step"' in out
    today = timezone.localdate().isoformat()
    out, _ = run("search", "--action", "test.step", "--from", "2000-01-01", "--to", today)
    assert out.count("\n") >= 5


def test_search_command_refuses_a_bad_date(db):
    with pytest.raises(CommandError, match="not a date"):
        run("search", "--from", "yesterday")


# Heads published outside the database ------------------------------------------------------

@pytest.fixture
def published(chain):
    """One more batch after the chain's, and its head as `zhili audit head` prints it."""
    audit_record(actor=None, action="test.last")
    sequence_all()
    out, _ = run("head")
    seq, _, chain_hash = out.strip().partition(":")
    return int(seq), chain_hash


def test_the_head_command_prints_what_verify_takes_back(published):
    seq, chain_hash = published
    tree = AuditTreeHead.objects.order_by("-last_seq").first()
    assert (seq, chain_hash) == (tree.last_seq, tree.chain_hash)
    out, _ = run("verify", "--anchor", f"{seq}:{chain_hash}")
    assert out.strip().endswith("the chain is intact")
    out, _ = run("head", "--json")
    assert f'"last_seq": {seq}' in out and tree.signature in out


def test_a_published_head_shows_newest_batches_cut_off(published, tamper):
    seq, chain_hash = published
    tree = AuditTreeHead.objects.get(last_seq=seq)
    before = AuditSequence.objects.get(seq=tree.first_seq - 1)
    tamper("DELETE FROM audit_auditsequence WHERE seq >= %s", [tree.first_seq])
    tamper("DELETE FROM audit_audittreehead WHERE id = %s", [tree.pk])
    tamper("UPDATE audit_audithead SET last_seq = %s, last_hash = %s",
           [before.seq, before.chain_hash])
    assert audit_verify().problems == []  # from inside the database, a clean cut
    assert audit_verify(anchors={seq: chain_hash}).problems == [
        f"the published head at position {seq} is not in the chain (the newest entries "
        "were cut off)"]


def test_a_published_head_shows_a_rewrite_by_whoever_holds_the_key(published, tamper):
    """With the key, an attacker can re-sign every head; a head kept elsewhere still differs."""
    from zhili.audit.chain import chain_link, head_signature

    seq, chain_hash = published
    entry = AuditEntry.objects.get(sequence__seq=seq)
    entry.purpose = "rewritten"
    new_hash = entry_digest("", hashed_fields(entry))
    new_chain = chain_link(AuditSequence.objects.get(seq=seq - 1).chain_hash, seq, entry.pk, new_hash)
    tree = AuditTreeHead.objects.get(last_seq=seq)
    tamper("UPDATE audit_auditentry SET purpose = %s, entry_hash = %s WHERE id = %s",
           [entry.purpose, new_hash, entry.pk])
    tamper("UPDATE audit_auditsequence SET chain_hash = %s WHERE seq = %s", [new_chain, seq])
    tamper("UPDATE audit_audittreehead SET chain_hash = %s, signature = %s WHERE id = %s",
           [new_chain, head_signature(tree.first_seq, seq, new_chain, tree.at), tree.pk])
    tamper("UPDATE audit_audithead SET last_hash = %s", [new_chain])
    assert audit_verify().problems == []
    assert audit_verify(anchors={seq: chain_hash}).problems == [
        f"the published head at position {seq} does not match the chain (history up to it "
        "was rewritten)"]


def test_verify_refuses_a_malformed_anchor(db):
    with pytest.raises(CommandError, match="--anchor must be SEQ:HASH"):
        run("verify", "--anchor", "12:abc")
