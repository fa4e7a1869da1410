"""X-Forwarded-For is believed only from ZHILI_TRUSTED_PROXIES, in uvicorn and in the app."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
import urllib.request

import pytest
import uvicorn

from zhili.core.forwarding import server_options


async def echo_client(scope, receive, send):
    """The address uvicorn hands the application, as the body."""
    assert scope["type"] == "http"
    body = (scope["client"] or ("-", 0))[0].encode()
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": body})


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def address_seen_by_uvicorn(options: dict, forwarded_for: str) -> str:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(echo_client, host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="off", **options))
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
    thread.start()
    try:
        for _ in range(200):
            if server.started:
                break
            time.sleep(0.05)
        request = urllib.request.Request(f"http://127.0.0.1:{port}/",
                                         headers={"X-Forwarded-For": forwarded_for})
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.read().decode()
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_uvicorn_ignores_forwarded_for_from_loopback_without_trusted_proxies(settings):
    settings.ZHILI_TRUSTED_PROXIES = []
    assert address_seen_by_uvicorn(server_options(), "203.0.113.9") == "127.0.0.1"


def test_uvicorn_believes_a_configured_proxy(settings):
    settings.ZHILI_TRUSTED_PROXIES = ["127.0.0.1"]
    assert address_seen_by_uvicorn(server_options(), "203.0.113.9") == "203.0.113.9"


def recorded_addresses(client, remote: str, forwarded_for: str) -> tuple[str, str]:
    """(address the login throttle counted, address the audit log recorded)."""
    from zhili.accounts.models import LoginFailure
    from zhili.audit.models import AuditEntry
    from zhili.core.seeding import DEMO_PASSWORD

    meta = {"REMOTE_ADDR": remote, "HTTP_X_FORWARDED_FOR": forwarded_for}
    client.post("/accounts/login/", {"username": "worker1", "password": "wrong"}, **meta)
    counted = LoginFailure.objects.order_by("-pk").values_list("client_ip", flat=True).first()
    client.post("/accounts/login/", {"username": "worker1", "password": DEMO_PASSWORD}, **meta)
    audited = AuditEntry.objects.filter(action="user.login").order_by("-pk") \
        .values_list("client_ip", flat=True).first()
    client.logout()
    return counted, audited


@pytest.mark.django_db
def test_forwarded_for_from_loopback_is_not_believed_by_default(client, settings):
    settings.ZHILI_TRUSTED_PROXIES = []
    assert recorded_addresses(client, "127.0.0.1", "203.0.113.9") == ("127.0.0.1", "127.0.0.1")


@pytest.mark.django_db
def test_behind_a_trusted_proxy_the_nearest_untrusted_hop_counts(client, settings):
    settings.ZHILI_TRUSTED_PROXIES = ["10.0.0.0/8"]
    # The client may put anything first; only what our proxies appended is believed.
    assert recorded_addresses(client, "10.0.0.5", "6.6.6.6, 198.51.100.7, 10.0.0.9") \
        == ("198.51.100.7", "198.51.100.7")
    # A peer that is not a proxy cannot speak for anybody.
    assert recorded_addresses(client, "192.0.2.1", "198.51.100.7") == ("192.0.2.1", "192.0.2.1")
