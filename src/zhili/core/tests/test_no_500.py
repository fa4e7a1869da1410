"""No input produces a 500: every URL of the project, for each kind of user,
with nonsense in the query string, a form body and a JSON body (NUL and calendar
ends among it), and bodies no parser should choke on. core/tests/test_no_500_openapi.py
does the same per parameter for every API operation."""

import json
import re

import pytest
from django.urls import URLResolver, get_resolver

# NUL: PostgreSQL text cannot hold it (a DataError wherever it reached a query).
NONSENSE = ["abc", "-1", "99999999999", "nan", "' OR 1=1 --", "x" * 3000, "a\x00b",
            "0001-01-01"]
# Bodies no parser should choke on: deep JSON, a lone surrogate, multipart without a boundary.
BAD_BODIES = [("[" * 3000 + "]" * 3000, "application/json"),
              ('{"q": "\\ud800", "description": "\\ud800"}', "application/json"),
              (b"--x\r\n", "multipart/form-data"), ('{"q": 1}', "text/plain")]
FIELDS = ("page", "page_size", "q", "status", "lon", "lat", "crs", "level", "zoom", "area",
          "date_from", "start_date", "end_date", "service_code", "version", "category",
          "purpose", "reason", "rating", "days")


def project_paths():
    def walk(patterns, prefix=""):
        for p in patterns:
            if isinstance(p, URLResolver):
                yield from walk(p.url_patterns, prefix + str(p.pattern))
            else:
                yield prefix + str(p.pattern)

    for raw in walk(get_resolver().url_patterns):
        if raw.startswith("admin/") or "(?P" in raw or "\\" in raw:
            continue  # Django's own admin and regex routes (the API catch-all, i18n)
        # Every path parameter gets the same harmless stand-in value.
        yield "/" + re.sub(r"<[^>]+>", "1", raw.replace("^", "").replace("$", ""))


@pytest.mark.django_db
@pytest.mark.parametrize("username", [None, "admin", "street_op1", "worker1", "resident1",
                                      "power_officer"])
def test_no_url_answers_500(client, username):
    from zhili.accounts.models import User

    if username:
        client.force_login(User.objects.get(username=username))
    failures = []
    for path in project_paths():
        for body, content_type in BAD_BODIES:
            try:
                status = client.post(path, body, content_type=content_type).status_code
            except Exception as exc:
                failures.append(f"{path} {content_type} body: {exc!r}"[:200])
                continue
            if status >= 500:
                failures.append(f"{path} {content_type} body: HTTP {status}")
        for bad in NONSENSE[:4] + NONSENSE[5:]:
            params = dict.fromkeys(FIELDS, bad)
            for send in (  # called at once, inside this iteration
                lambda: client.get(path, params),  # noqa: B023
                lambda: client.post(path, params),  # noqa: B023
                lambda: client.post(path, json.dumps(params),  # noqa: B023
                                    content_type="application/json"),
            ):
                try:
                    status = send().status_code
                except Exception as exc:  # the test client re-raises view errors
                    failures.append(f"{path} {bad[:12]!r}: {exc!r}"[:200])
                    continue
                if status >= 500:
                    failures.append(f"{path} {bad[:12]!r}: HTTP {status}")
    assert failures == [], "\n".join(failures[:30])
