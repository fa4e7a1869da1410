"""Every operation in the OpenAPI document, every parameter, hostile values: never a 500.

For each operation and each of its path, query and body parameters in turn, the
parameter gets values that have broken servers before (NUL, a lone surrogate,
very long text, numbers past every range, the wrong JSON type, calendar ends)
while the others keep plausible ones; then the body as a whole is replaced by
deep, non-object, unparseable, boundary-less and text/plain forms; then
hypothesis draws random values. Staff and anonymous callers both. Every answer
is below 500, every 4xx is problem+json, and its status is one the operation
documents (the OpenAPI document tells the truth about errors).
"""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zhili.api import api

HOSTILE = ["\x00", "a\x00b", "\ud800", "x\udfffy", "x" * 5000, "", " ", "-1", "0",
           "99999999999999999999999", "1e309", "nan", "0001-01-01", "9999-12-31T23:59:59Z",
           "true", "../../etc/passwd", "' OR 1=1 --"]
# Only JSON can carry these; a query string or path makes them text.
HOSTILE_JSON = [True, None, [], {}, -(2**70), 1.5e308, [[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]],
                {"a": "\x00"}, ["\ud800"]]
DEEP = "[" * 3000 + "]" * 3000


def resolve(schema: dict, document: dict, seen: int = 0) -> dict:
    while "$ref" in schema and seen < 20:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema, seen = document["components"]["schemas"][name], seen + 1
    for key in ("anyOf", "allOf", "oneOf"):
        if key in schema:
            options = [resolve(s, document, seen + 1) for s in schema[key]]
            concrete = [o for o in options if o.get("type") != "null"]
            return concrete[0] if concrete else options[0]
    return schema


def plausible(schema: dict, document: dict):
    schema = resolve(schema, document)
    if "enum" in schema:
        return schema["enum"][0]
    if "default" in schema and schema["default"] is not None:
        return schema["default"]
    kind = schema.get("type")
    if kind == "integer":
        return 1
    if kind == "number":
        return 106.55
    if kind == "boolean":
        return False
    if kind == "array":
        return []
    if kind == "object":
        return {name: plausible(s, document) for name, s in schema.get("properties", {}).items()
                if name in schema.get("required", [])}
    return "x"


class Operation:
    def __init__(self, path: str, method: str, op: dict, document: dict):
        self.path, self.method, self.op = path, method, op
        self.name = f"{method.upper()} {path}"
        self.documented = {str(code) for code in op["responses"]}
        params = op.get("parameters", [])
        self.path_params = {p["name"]: plausible(p.get("schema", {}), document)
                            for p in params if p["in"] == "path"}
        self.query = {p["name"]: p for p in params if p["in"] == "query"}
        content = op.get("requestBody", {}).get("content", {})
        self.body_types = list(content)
        self.body_schema = resolve(content["application/json"]["schema"], document) \
            if "application/json" in content else None
        self.body = plausible(self.body_schema, document) if self.body_schema else None

    def url(self, path_params: dict) -> str:
        url = self.path
        for name, value in path_params.items():
            url = url.replace("{" + name + "}", quote(str(value), safe="", errors="surrogatepass"))
        return url

    def query_string(self, values: dict) -> str:
        parts = []
        for name, value in values.items():
            encoded = str(value).encode("utf-8", "surrogatepass")
            parts.append(f"{quote(name)}={quote(encoded, safe='')}")
        return "&".join(parts)


def operations() -> list[Operation]:
    document = api.get_openapi_schema()
    found = [Operation(path, method, op, document)
             for path, ops in document["paths"].items() for method, op in ops.items()]
    # Deleting runs last, so no earlier request loses the token it authenticates with.
    return sorted(found, key=lambda o: (o.method == "delete", o.name))


class Caller:
    def __init__(self, client, headers: dict):
        self.client, self.headers = client, headers
        self.failures: list[str] = []

    def send(self, op: Operation, *, path_params=None, query=None, body=None, raw=None,
             form=None, content_type="application/json", what=""):
        url = op.url(path_params if path_params is not None else op.path_params)
        if query:
            url += "?" + op.query_string(query)
        method = getattr(self.client, op.method)
        kwargs = {"headers": self.headers}
        if raw is not None:
            kwargs.update(data=raw, content_type=content_type)
        elif body is not None:
            kwargs.update(data=json.dumps(body), content_type="application/json")
        elif form is not None:
            kwargs.update(data=form)  # the test client's default: multipart
        try:
            response = method(url, **kwargs)
        except Exception as exc:  # the test client re-raises what a view let escape
            self.failures.append(f"{op.name} {what}: {exc!r}"[:240])
            return
        status = response.status_code
        if status >= 500:
            self.failures.append(f"{op.name} {what}: HTTP {status}")
        elif status >= 400:
            if response["Content-Type"] != "application/problem+json":
                self.failures.append(f"{op.name} {what}: {status} as {response['Content-Type']}")
            elif str(status) not in op.documented:
                self.failures.append(f"{op.name} {what}: {status} "
                                     f"({response.json().get('code')}) is not documented")

    def hostile_sweep(self, op: Operation):
        for name in op.path_params:
            for bad in HOSTILE:
                if bad:  # an empty segment is another URL, not this operation
                    self.send(op, path_params={**op.path_params, name: bad}, body=op.body,
                              what=f"path {name}={bad[:12]!r}")
        for name in op.query:
            for bad in HOSTILE:
                self.send(op, query={name: bad}, body=op.body, what=f"query {name}={bad[:12]!r}")
        if op.body_schema is not None:
            for name in op.body_schema.get("properties", {}):
                for bad in HOSTILE + HOSTILE_JSON:
                    self.send(op, body={**op.body, name: bad},
                              what=f"body {name}={str(bad)[:12]!r}")
        if op.body_types:
            for raw, content_type, what in [
                (DEEP, "application/json", "deep JSON"),
                ("[1, 2]", "application/json", "a JSON array"),
                ('"\\ud800"', "application/json", "a lone surrogate"),
                ("{not json", "application/json", "broken JSON"),
                (b"\xff\xfe", "application/json", "not UTF-8"),
                (b"--x\r\n", "multipart/form-data", "multipart without boundary"),
                (json.dumps(op.body or {}), "text/plain", "text/plain"),
            ]:
                self.send(op, raw=raw, content_type=content_type, what=what)
            fields = {k: str(v) for k, v in (op.body or {}).items()}
            for name in fields or ["x"]:
                self.send(op, form={**fields, name: "a\x00b"}, what=f"form {name} with NUL")
            self.send(op, form=fields or {"x": "1"}, what="a multipart form")


@pytest.fixture
def callers(client, bearer):
    import logging

    from zhili.accounts.models import User

    # Thousands of expected 4xx would each log a warning.
    for name in ("django.request", "zhili.api"):
        logging.getLogger(name).setLevel(logging.CRITICAL)

    return [Caller(client, {}), Caller(client, bearer(User.objects.get(username="admin")))]


@pytest.mark.django_db
def test_no_operation_answers_500_to_hostile_values(callers):
    for caller in callers:
        for op in operations():
            caller.hostile_sweep(op)
    failures = [f for caller in callers for f in caller.failures]
    # One line per operation and kind of failure; the value that found it is an example.
    kinds = {}
    for failure in failures:
        op, _, rest = failure.partition(" /api")
        kinds.setdefault((op, rest.split(" ", 1)[0], rest.rsplit(":", 1)[-1][:60]), failure)
    assert failures == [], "\n".join(sorted(kinds.values())[:80])


TEXT = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]) | st.sampled_from(
    ["\x00", "\ud800", "%", "/", "'"]), max_size=40)
JSON_VALUE = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | TEXT,
                          lambda inner: st.lists(inner, max_size=3)
                          | st.dictionaries(TEXT, inner, max_size=3), max_leaves=8)
OPERATIONS = None


def _operations():
    global OPERATIONS
    if OPERATIONS is None:
        OPERATIONS = operations()
    return OPERATIONS


@pytest.mark.django_db
@settings(max_examples=120, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_random_values_never_answer_500(callers, data):
    ops = [op for op in _operations() if op.method != "delete"]
    op = data.draw(st.sampled_from(ops))
    caller = data.draw(st.sampled_from(callers))
    path_params = {name: data.draw(TEXT.filter(lambda s: s.strip("/"))) for name in op.path_params}
    query = {name: data.draw(TEXT) for name in op.query if data.draw(st.booleans())}
    body = None
    if op.body_schema is not None:
        body = {**op.body, **data.draw(st.dictionaries(
            st.sampled_from(sorted(op.body_schema.get("properties", {})) or ["x"]), JSON_VALUE,
            max_size=4))}
    caller.send(op, path_params=path_params, query=query, body=body, what="random")
    assert caller.failures == [], caller.failures
