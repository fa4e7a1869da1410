"""The hash chain: appends link up, and `zhili audit verify` finds every kind of tampering."""

import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from zhili.audit.models import AuditEntry, AuditHead
from zhili.audit.services import HEAD_ID, audit_record, audit_verify
from zhili.core import context


@pytest.fixture
def chain(db, city_admin, grid):
    """Five fresh entries at the end of the (already valid) seeded chain."""
    return [audit_record(actor=city_admin, action="test.step", area_path=grid.path,
                         purpose=f"step {i}", detail={"i": i}) for i in range(5)]


def test_entries_link_to_the_one_before(chain):
    for before, after in zip(chain, chain[1:], strict=False):
        assert after.prev_hash == before.entry_hash
    head = AuditHead.objects.get(pk=HEAD_ID)
    assert (head.last_id, head.last_hash) == (chain[-1].pk, chain[-1].entry_hash)
    checked, problems = audit_verify()
    assert problems == []
    assert checked == AuditEntry.objects.count()


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


@pytest.mark.parametrize("address", ["2001:DB8:0:0:0:0:0:1", "::ffff:10.0.0.1", "not-an-ip", ""])
def test_odd_values_still_verify_after_the_database_round_trip(db, address):
    with context.bind(context.RequestContext("req-odd-values", client_ip=address)):
        audit_record(
            actor=None, action="test.odd", purpose="nul\x00byte " + "x" * 300,
            detail={1: "int key", "when": dt.date(2026, 1, 2), "pair": (1, 2), "text": "a\x00b",
                    "float": 0.1, "nested": {"b": [1, {"c": None}], "a": "重庆"}},
        )
    assert audit_verify()[1] == []


def test_an_edited_entry_is_reported(chain, tamper):
    tamper("UPDATE audit_auditentry SET purpose = 'nothing to see' WHERE id = %s", [chain[2].pk])
    checked, problems = audit_verify()
    assert problems == [f"entry {chain[2].pk}: its content does not match its hash (edited)"]


def test_an_edited_entry_with_a_recomputed_hash_breaks_the_next_link(chain, tamper):
    tamper("UPDATE audit_auditentry SET entry_hash = %s WHERE id = %s", ["f" * 64, chain[1].pk])
    problems = audit_verify()[1]
    assert any(p.startswith(f"entry {chain[1].pk}: its content") for p in problems)
    assert any(p.startswith(f"entry {chain[2].pk}: its link") for p in problems)


def test_a_deleted_entry_in_the_middle_is_reported(chain, tamper):
    tamper("DELETE FROM audit_auditentry WHERE id = %s", [chain[2].pk])
    problems = audit_verify()[1]
    assert len(problems) == 1
    assert problems[0].startswith(f"entry {chain[3].pk}: its link to the entry before it is broken")


def test_deleted_newest_entries_are_reported(chain, tamper):
    tamper("DELETE FROM audit_auditentry WHERE id >= %s", [chain[3].pk])
    problems = audit_verify()[1]
    assert problems == [f"the newest entries are missing: the head names entry {chain[-1].pk}, "
                        f"the last one found is {chain[2].pk}"]


def test_an_emptied_log_is_reported(chain, tamper):
    tamper("DELETE FROM audit_auditentry")
    checked, problems = audit_verify()
    assert checked == 0
    assert problems == [f"every entry up to {chain[-1].pk} is missing (the log was emptied)"]


def test_a_deleted_head_is_reported(chain, tamper):
    tamper("DELETE FROM audit_audithead")
    assert audit_verify()[1] == ["the chain head is missing (it was deleted)"]


def test_entries_appended_during_the_walk_are_left_for_the_next_run(chain):
    seen = []

    def progress(checked, total):
        if not seen:
            audit_record(actor=None, action="test.meanwhile")
        seen.append((checked, total))

    checked, problems = audit_verify(batch_size=2, progress=progress)
    assert problems == []
    assert checked == seen[-1][1] == AuditEntry.objects.count() - 1


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
    assert f"PROBLEM entry {chain[2].pk}: its link" in out.getvalue()


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
