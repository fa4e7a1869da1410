"""`zhili users …`, as an administrator runs it on the server."""

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from zhili.accounts.models import ApiToken, User
from zhili.audit.models import AuditEntry


@pytest.fixture(autouse=True)
def _english():
    """The messages are read in English here; the command speaks the active language."""
    with translation.override("en"):
        yield


def run(*args, stdin=None, monkeypatch=None):
    out, err = io.StringIO(), io.StringIO()
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    call_command("users", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_token_prints_a_working_key_once(api, grid_worker):
    out, err = run("token", "worker1", "--days", "7", "--name", "field tablet")
    raw = out.strip()
    assert raw.startswith("zl_") and "\n" not in raw  # the key alone on stdout, for scripts
    assert "field tablet" in err and "worker1" in err
    token = ApiToken.objects.get(user=grid_worker, name="field tablet")
    assert token.key_hash != raw and raw.startswith(token.prefix)
    assert api.get("/accounts/me", headers={"Authorization": f"Bearer {raw}"}).status_code == 200
    entry = AuditEntry.objects.filter(action="token.create").latest("id")
    assert entry.actor_label == "system" and entry.channel == "system"


def test_token_for_an_unknown_user_fails_cleanly(db):
    with pytest.raises(CommandError, match="No user named 'nobody'") as failure:
        run("token", "nobody")
    assert failure.value.returncode == 1


@pytest.mark.parametrize("days", ["0", "367"])
def test_token_days_out_of_range(db, grid_worker, days):
    with pytest.raises(CommandError, match="days: must be between 1 and 366"):
        run("token", "worker1", "--days", days)


def test_token_for_an_inactive_user_is_refused(grid_worker):
    grid_worker.is_active = False
    grid_worker.save(update_fields=["is_active"])
    with pytest.raises(CommandError, match="not active"):
        run("token", "worker1")


def test_revoke_token_by_prefix(api, grid_worker):
    raw = run("token", "worker1")[0].strip()
    out, _ = run("revoke-token", raw[:8])
    assert "revoked" in out
    assert api.get("/accounts/me", headers={"Authorization": f"Bearer {raw}"}).status_code == 401
    out, _ = run("revoke-token", raw)  # the whole key works too; again is harmless
    assert "already revoked" in out


def test_revoke_token_unknown_or_too_short(db):
    with pytest.raises(CommandError, match="No token starts with"):
        run("revoke-token", "zl_nothing")
    with pytest.raises(CommandError, match="at least the first 6"):
        run("revoke-token", "zl_")


def test_revoke_token_ambiguous_prefix(grid_worker):
    from zhili.accounts.services import token_create

    first, _ = token_create(user=grid_worker, name="a")
    second, _ = token_create(user=grid_worker, name="b")
    ApiToken.objects.filter(pk=second.pk).update(prefix=first.prefix[:8] + "zz")
    with pytest.raises(CommandError, match="2 tokens start with"):
        run("revoke-token", first.prefix[:8])


def test_create_with_a_password_from_stdin(client, monkeypatch, street):
    out, _ = run("create", "newop", "--role", "street_operator", "--area", "500103001",
                 "--display-name", "New operator", "--password-stdin",
                 stdin="correct horse battery staple\n", monkeypatch=monkeypatch)
    assert "Created newop with a password" in out
    user = User.objects.get(username="newop")
    assert user.password.startswith("argon2")
    assert user.display_name == "New operator"
    assert user.scope("registry.reveal_person").paths == (street.path,)
    assert client.login(username="newop", password="correct horse battery staple")
    actions = set(AuditEntry.objects.filter(object_id=str(user.pk)).values_list("action", flat=True))
    assert "user.create" in actions


def test_create_a_department_officer(db, district):
    run("create", "water1", "--role", "department_officer", "--area", "500103",
        "--department", "water")
    assert User.objects.get(username="water1").departments() == {"water"}


@pytest.mark.parametrize("args,message", [
    (["--role", "street_operator", "--area", "999999"], "No area with code '999999'"),
    (["--role", "street_operator", "--area", "abc"], "No area with code 'abc'"),
    (["--role", "department_officer", "--area", "500103"], "department: a department officer"),
    (["--role", "department_officer", "--area", "500103", "--department", "spies"],
     "No department 'spies'"),
])
def test_create_mistakes_write_nothing(db, args, message):
    with pytest.raises(CommandError, match=message):
        run("create", "ghost", *args)
    assert not User.objects.filter(username="ghost").exists()


def test_create_refuses_a_weak_password_and_an_existing_name(db, monkeypatch, grid_worker):
    with pytest.raises(CommandError, match="Password refused"):
        run("create", "weak", "--role", "resident", "--area", "500103001001001",
            "--password-stdin", stdin="123\n", monkeypatch=monkeypatch)
    with pytest.raises(CommandError, match="already exists"):
        run("create", "Worker1", "--role", "resident", "--area", "500103001001001")


def test_create_refuses_an_unknown_role(db):
    with pytest.raises(CommandError):
        run("create", "x", "--role", "mayor", "--area", "50")


def test_assign_and_list(grid_worker):
    run("assign", "worker1", "--role", "grid_leader", "--area", "500103001001001")
    out, err = run("list", "--role", "grid_leader")
    lines = out.strip().splitlines()
    assert any(line.startswith("worker1\t") and "grid_leader@500103001001001" in line for line in lines)
    assert all("grid_leader" in line for line in lines)
    out, _ = run("list", "--area", "500103002")
    names = {line.split("\t")[0] for line in out.strip().splitlines()}
    assert names >= {"street_op2", "worker2"}
    assert not names & {"worker1", "street_op1", "admin"}


def test_the_real_command_line_prints_no_traceback(tmp_path):
    """`zhili users token nobody` on a fresh database: one line, exit status 1."""
    env = {**os.environ, "ZHILI_DATABASE_URL": f"sqlite:///{tmp_path / 'z.db'}",
           "ZHILI_DATA_DIR": str(tmp_path)}
    zhili = Path(sys.executable).with_name("zhili")
    subprocess.run([str(zhili), "migrate", "-v", "0"], env=env, check=True, timeout=300,
                   capture_output=True)
    done = subprocess.run([str(zhili), "users", "token", "nobody"], env=env, timeout=120,
                          capture_output=True, text=True)
    assert done.returncode == 1
    assert "No user named 'nobody'" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
