"""Closed networks: no page loads anything from an outside host, every page
carries a Content-Security-Policy that would block it if one tried, and the
API docs (Swagger UI) come from an installed package."""

import os
import re
import subprocess
import sys
from urllib.parse import urlsplit

import pytest

from zhili.conftest import browser_login
from zhili.core.conf import origin_of

# src=, href=, action=, poster= and url(...) in inline styles.
REFERENCE = re.compile(r"""(?:\b(?:src|href|action|poster)\s*=\s*["']?|url\(\s*["']?)([^"'\s>)]+)""", re.I)
LOCAL_HOSTS = {"", "testserver", "127.0.0.1", "localhost"}


def outside_references(html: str) -> list[str]:
    found = []
    for ref in REFERENCE.findall(html):
        parts = urlsplit(ref)
        if parts.scheme in {"data", "blob", "mailto", "tel", "javascript"}:
            continue
        if (ref.startswith("//") or parts.scheme in {"http", "https"}) and \
                (parts.hostname or "") not in LOCAL_HOSTS:
            found.append(ref)
    return found


def pages_for(client, username: str | None) -> list[str]:
    """The pages a user can reach from the menu, plus the ones everybody sees."""
    from zhili.core.seeding import DEMO_PASSWORD

    paths = ["/", "/accounts/login/", "/api/v1/docs"]
    if username:
        assert client.login(username=username, password=DEMO_PASSWORD)
        home = client.get("/").content.decode()
        paths += re.findall(r'<a href="(/[^"#?]*)"', home)  # the menu and the home page's links
    return sorted({p for p in paths if not p.startswith(("/static/", "/media/"))})


@pytest.mark.django_db
@pytest.mark.parametrize("username", [None, "admin", "resident1", "worker1", "street_op1", "power_officer"])
def test_no_page_loads_from_an_outside_host(client, username):
    for path in pages_for(client, username):
        response = client.get(path, follow=True)
        if "text/html" not in response.get("Content-Type", ""):
            continue
        html = response.content.decode()
        assert outside_references(html) == [], f"{path} loads from an outside host"
        # and every local asset it names is really served
        for ref in re.findall(r'(?:src|href)="(/static/[^"]+)"', html):
            assert client.get(ref).status_code == 200, f"{path}: {ref} is missing"


@pytest.mark.django_db
def test_api_docs_come_from_the_installed_package(client):
    html = client.get("/api/v1/docs").content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html
    assert client.get("/static/ninja/swagger-ui-bundle.js").status_code == 200
    assert "cdn" not in html.lower()


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/accounts/login/", "/api/v1/docs", "/api/v1/openapi.json"])
def test_every_response_carries_a_content_security_policy(client, path):
    policy = client.get(path)["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";") if " " in d.strip())
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"  # no inline scripts, no eval, no outside host
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"


def test_tile_origins_for_the_policy():
    assert origin_of("") == ""
    assert origin_of("/tiles/{z}/{x}/{y}.png") == ""
    assert origin_of("https://tiles.example.cn/{z}/{x}/{y}.png") == "https://tiles.example.cn"
    assert origin_of("https://t{s}.tianditu.gov.cn/DataServer?x={x}") == "https://*.tianditu.gov.cn"
    assert origin_of("http://{s}.{host}.example/{z}") == "http:"


def _settings_with(**env) -> dict:
    """Settings as a fresh process would read them from these variables."""
    code = ("import json, zhili.settings as s; print(json.dumps({k: getattr(s, k, None) for k in "
            "['SECURE_HSTS_SECONDS', 'SESSION_COOKIE_SECURE', 'CONTENT_SECURITY_POLICY']}))")
    out = subprocess.run([sys.executable, "-c", code], env={**os.environ, **env},
                         capture_output=True, text=True, check=True).stdout
    import json

    return json.loads(out)


def test_hsts_only_under_https_and_the_tile_server_only_as_images(tmp_path):
    plain = _settings_with(ZHILI_DATA_DIR=str(tmp_path), ZHILI_HTTPS="0", ZHILI_TILE_URL="")
    assert not plain["SECURE_HSTS_SECONDS"]
    secure = _settings_with(ZHILI_DATA_DIR=str(tmp_path), ZHILI_HTTPS="1",
                            ZHILI_TILE_URL="https://t{s}.tianditu.gov.cn/{z}/{x}/{y}")
    assert secure["SECURE_HSTS_SECONDS"] == 31536000 and secure["SESSION_COOKIE_SECURE"]
    directives = secure["CONTENT_SECURITY_POLICY"]["DIRECTIVES"]
    assert "https://*.tianditu.gov.cn" in directives["img-src"]
    assert "https://*.tianditu.gov.cn" not in directives["script-src"] + directives["connect-src"]


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_api_docs_render_on_a_closed_network(browser_page, live_server):
    """In Chromium, with every request to another host refused: Swagger UI draws
    the operations, and the policy reports no violation."""
    page = browser_page
    local = urlsplit(live_server.url).netloc
    outside = []

    def guard(route):
        if urlsplit(route.request.url).netloc != local:
            outside.append(route.request.url)
            route.abort()
        else:
            route.continue_()

    page.route("**/*", guard)
    violations = []
    page.on("console", lambda msg: violations.append(msg.text)
            if "Content Security Policy" in msg.text else None)
    browser_login(page, "admin")
    page.goto("/api/v1/docs")
    page.wait_for_selector(".swagger-ui .opblock", timeout=30_000)
    assert page.locator(".swagger-ui .opblock").count() > 20
    page.goto("/geo/map/")
    page.wait_for_selector("#map path.leaflet-interactive")
    assert outside == []
    assert violations == []


@pytest.mark.django_db
def test_openapi_document_has_no_duplicate_keys(client):
    """Swagger UI reads the document as YAML, which refuses a key given twice."""
    import json

    def no_duplicates(pairs):
        keys = [key for key, _ in pairs]
        assert len(keys) == len(set(keys)), f"duplicate keys: {keys}"
        return dict(pairs)

    json.loads(client.get("/api/v1/openapi.json").content, object_pairs_hook=no_duplicates)
