"""Shared fixtures: the demo city (preset small, seed 1) and its demo users.

The city is seeded once per test session through the real services; each test
runs in a transaction rolled back at its end. After a test that commits for
real (`transaction=True`, `live_server`), the flush wipes the database and the
city is seeded again (see pytest_runtest_teardown).

The database is chosen by ZHILI_DATABASE_URL (SQLite by default). Tests that
need a service the machine lacks (PostgreSQL, Mosquitto, Chromium) skip with
the reason; under CI (CI=true) such a skip fails the run instead.
"""

from __future__ import annotations

import os

import pytest

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require(condition: bool, reason: str) -> None:
    """Skip when a needed service is missing, but fail under CI: CI must have it."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"CI must provide this, but: {reason}", pytrace=False)
    pytest.skip(reason)


def on_postgres() -> bool:
    from django.db import connection

    return connection.vendor == "postgresql"


def pytest_collection_modifyitems(config, items):
    # PostgreSQL-only tests are deselected (not skipped) in the SQLite pass.
    if "postgres" in os.environ.get("ZHILI_DATABASE_URL", ""):
        return
    keep, drop = [], []
    for item in items:
        (drop if item.get_closest_marker("postgres_only") else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


_seeded = None  # the seeded test database, kept to put back after a flush (see _seed)


def _seed():
    """Seed the demo city; after a flush, put back the copy taken after the first seed.

    A transactional test's flush wipes the city; seeding it again through every
    app's demo step costs many seconds each time. SQLite's backup API copies the
    seeded pages back, PostgreSQL takes each table back with COPY and its
    sequences with setval, both in well under a second. Files the seed wrote
    (road graphs, drainage models) stay on disk.
    """
    global _seeded
    from django.db import connection

    from zhili.core.seeding import seed_demo

    if _seeded is not None:
        _restore(connection, _seeded)
        return
    seed_demo(seed=1, log=lambda *_: None)
    _seeded = _snapshot(connection)


def _snapshot(connection):
    if connection.vendor == "sqlite":
        import sqlite3

        copy = sqlite3.connect(":memory:", check_same_thread=False)
        connection.connection.backup(copy)
        return copy
    if connection.vendor != "postgresql":
        return None
    tables = connection.introspection.django_table_names(only_existing=True, include_views=False)
    data, sequences = {}, {}
    with connection.cursor() as cursor:
        raw = cursor.cursor
        for table in tables:
            with raw.copy(f'COPY (SELECT * FROM "{table}") TO STDOUT (FORMAT BINARY)') as out:
                data[table] = b"".join(bytes(chunk) for chunk in out)
        for seq in connection.introspection.sequence_list():
            name = connection.introspection.get_sequences(cursor, seq["table"])
            for s in name:
                cursor.execute(f'SELECT last_value, is_called FROM "{s["name"]}"')
                sequences[s["name"]] = cursor.fetchone()
    return data, sequences


def _restore(connection, seeded) -> None:
    if seeded is None:
        from zhili.core.seeding import seed_demo

        seed_demo(seed=1, log=lambda *_: None)
        return
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        seeded.backup(connection.connection)
        return
    from django.db import transaction

    from zhili.audit.triggers import lifted

    data, sequences = seeded
    with transaction.atomic(), lifted(connection), connection.cursor() as cursor:
        raw = cursor.cursor
        # The flush keeps some rows (the audit head): empty everything, then copy back.
        cursor.execute("TRUNCATE " + ", ".join(f'"{t}"' for t in data) + " CASCADE")
        for table, rows in data.items():
            if rows:
                with raw.copy(f'COPY "{table}" FROM STDIN (FORMAT BINARY)') as into:
                    into.write(rows)
        for name, (last_value, is_called) in sequences.items():
            cursor.execute("SELECT setval(%s, %s, %s)", [f'"{name}"', last_value, is_called])


@pytest.fixture(autouse=True)
def _process_caches_start_empty():
    """Per-process caches must not carry one test's rows (rolled back since) into
    the next."""
    from zhili.governance.services.intake import category_cache_clear
    from zhili.warning.reach import settled_cache_clear

    category_cache_clear()
    settled_cache_clear()
    yield
    category_cache_clear()
    settled_cache_clear()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        _seed()
    yield
    # Before the test database is dropped: the connection pool (settings, PostgreSQL)
    # keeps idle connections open to it, and DROP DATABASE refuses while one is.
    from django.db import connections

    for connection in connections.all(initialized_only=True):
        if hasattr(connection, "close_pool"):
            connection.close_pool()


def _flushes_database(item) -> bool:
    marker = item.get_closest_marker("django_db")
    return bool(marker and marker.kwargs.get("transaction")) or any(
        name in item.fixturenames for name in ("transactional_db", "live_server")
    )


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """A transactional test ends with a flush that wipes the city: put it back.

    This runs after every fixture's teardown, so after the flush itself.
    """
    yield
    # After the last test the test database itself is gone: nothing to restore.
    if nextitem is not None and _flushes_database(item):
        from pytest_django.plugin import blocking_manager_key

        with item.config.stash[blocking_manager_key].unblock():
            _seed()


@pytest.fixture
def reseed_after():
    """Kept for readability in transactional tests; the reseed itself is automatic."""
    yield


def _node(segment: str):
    from zhili.geo.models import AreaNode

    return AreaNode.objects.get(code=segment.ljust(12, "0"))


def _user(username: str):
    from zhili.accounts.models import User

    return User.objects.get(username=username)


@pytest.fixture
def city(db):
    return _node("50")


@pytest.fixture
def district(db):
    return _node("500103")


@pytest.fixture
def street(db):
    return _node("500103001")


@pytest.fixture
def other_street(db):
    return _node("500103002")


@pytest.fixture
def community(db):
    return _node("500103001001")


@pytest.fixture
def grid(db):
    return _node("500103001001001")


@pytest.fixture
def other_grid(db):
    return _node("500103002001001")


@pytest.fixture
def city_admin(db):
    return _user("admin")


@pytest.fixture
def district_operator(db):
    return _user("district_op")


@pytest.fixture
def street_operator(db):
    return _user("street_op1")


@pytest.fixture
def other_street_operator(db):
    return _user("street_op2")


@pytest.fixture
def grid_worker(db):
    return _user("worker1")


@pytest.fixture
def other_grid_worker(db):
    return _user("worker2")


@pytest.fixture
def department_officer(db):
    return _user("power_officer")


@pytest.fixture
def resident(db):
    return _user("resident1")


@pytest.fixture
def bearer(db):
    """bearer(user) -> headers carrying a fresh API token for that user."""
    from zhili.accounts.services import token_create

    def make(user):
        _, raw = token_create(user=user, name="test", days=1)
        return {"Authorization": f"Bearer {raw}"}

    return make


@pytest.fixture
def api(client):
    """The Django test client, with JSON helpers for /api/v1."""

    class Api:
        def get(self, path, headers=None, **params):
            return client.get(f"/api/v1{path}", params, headers=headers or {})

        def post(self, path, body=None, headers=None):
            import json

            return client.post(f"/api/v1{path}", json.dumps(body or {}),
                               content_type="application/json", headers=headers or {})

    return Api()


# ---------------------------------------------------------------- browser tests
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]


@pytest.fixture(scope="session")
def chromium():
    """Debian's Chromium driven by Playwright; never a downloaded browser."""
    import shutil

    executable = shutil.which("chromium")
    require(executable is not None, "Chromium is not installed (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover
        require(False, "playwright is not installed (pip install -e '.[test]')")
    # Playwright's sync API runs an event loop in this thread; the ORM calls in
    # the test body are still plain synchronous calls.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def live_server(django_db_setup, live_server):
    """pytest-django's live server, ordered after the test database: it stops
    (closing its connection) before the database is dropped."""
    return live_server


@pytest.fixture
def browser_page(chromium, live_server, reseed_after):
    """A fresh browser context (zh-Hans, phone-sized) against the live test server.

    `page.goto(path)` takes paths relative to the live server.
    """
    context = chromium.new_context(
        base_url=live_server.url, locale="zh-CN", viewport={"width": 390, "height": 844},
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def wait_for_js(page, expression: str, timeout: float = 15_000) -> None:
    """Wait until a JavaScript expression is true in the page.

    Playwright's `wait_for_function` evaluates its predicate with `eval`, which
    the pages' Content-Security-Policy refuses (as it should); `evaluate` goes
    through the DevTools protocol, which the policy does not govern."""
    import time

    deadline = time.monotonic() + timeout / 1000
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout / 1000:.0f}s: {expression}")
        page.wait_for_timeout(100)


def browser_login(page, username: str, password: str | None = None) -> None:
    from zhili.core.seeding import DEMO_PASSWORD

    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password or DEMO_PASSWORD)
    page.click(".login button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/login" not in url)
