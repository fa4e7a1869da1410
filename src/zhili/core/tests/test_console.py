"""What an operator sees around the demo: its console output, one line per 403,
a favicon, and Leaflet sent compressed."""

from __future__ import annotations

import gzip
import io
import logging
from pathlib import Path

import pytest
from django.utils import translation

from zhili.core.management.commands.demo import Command as DemoCommand


def test_demo_logins_name_every_login_with_its_department(db):
    out = io.StringIO()
    with translation.override("en"):
        DemoCommand(stdout=out).print_logins()
    text = out.getvalue()
    assert "power_officer" in text
    officers = [line.split()[0] for line in text.splitlines() if line.strip().startswith("officer-")]
    assert "officer-power" in officers and len(officers) > 10
    assert "{" not in text and "<department>" not in text
    # Departments by name, not by code.
    power_line = next(line for line in text.splitlines() if line.strip().startswith("power_officer"))
    assert " · power · " not in power_line


def test_demo_seed_lines_label_counts_and_print_no_raw_dicts(db):
    from zhili.core.seeding import seed_demo
    from zhili.geo.demo import counts_text

    with translation.override("en"):
        assert counts_text({"city": 1, "street": 11, "grid": 480}) == \
            "City: 1, Street / town: 11, Grid: 480"
        lines: list[str] = []
        seed_demo(seed=1, log=lines.append)
    assert not [line for line in lines if "{" in line or "<" in line]


@pytest.fixture
def console():
    """What the console handler writes, for the duration of a test."""
    from zhili.core.logs import ClientErrorsWithoutTraceback

    handler = next(h for h in logging.getLogger().handlers
                   if any(isinstance(f, ClientErrorsWithoutTraceback) for f in h.filters))
    stream = io.StringIO()
    previous = handler.setStream(stream)
    yield stream
    handler.setStream(previous)


def test_a_refused_page_logs_one_line_not_a_traceback(client, resident, console):
    client.force_login(resident)
    assert client.get("/bundles/inbox/").status_code == 403
    lines = console.getvalue().splitlines()
    assert [line for line in lines if "Forbidden" in line] and "/bundles/inbox/" in lines[-1]
    assert "Traceback" not in console.getvalue()
    assert len(lines) == 1


def test_pages_link_a_favicon_that_is_served(client, resident):
    client.force_login(resident)
    assert 'rel="icon" href="/static/zhili/favicon.svg"' in client.get("/").content.decode()
    icon = client.get("/static/zhili/favicon.svg")
    assert icon.status_code == 200 and icon["Content-Type"].startswith("image/svg+xml")
    legacy = client.get("/favicon.ico")
    assert legacy.status_code == 301 and legacy["Location"] == "/static/zhili/favicon.svg"


def test_leaflet_is_sent_gzipped_to_clients_that_accept_it(client):
    import xstatic.pkg.leaflet

    original = (Path(xstatic.pkg.leaflet.BASE_DIR) / "leaflet.js").read_bytes()
    response = client.get("/static/leaflet/leaflet.js", headers={"accept-encoding": "gzip, br"})
    assert response.status_code == 200
    assert response["Content-Encoding"] == "gzip"
    assert gzip.decompress(b"".join(response.streaming_content)) == original
    plain = client.get("/static/leaflet/leaflet.js")
    assert not plain.has_header("Content-Encoding")
    assert b"".join(plain.streaming_content) == original


def test_pages_are_not_compressed(client, resident):
    # Pages carry CSRF tokens: compressing them would open BREACH-style guessing.
    client.force_login(resident)
    response = client.get("/", headers={"accept-encoding": "gzip"})
    assert response.status_code == 200 and not response.has_header("Content-Encoding")
