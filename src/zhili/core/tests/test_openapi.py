"""The OpenAPI document is part of the product: a test keeps it complete."""

import json

import pytest

from zhili.api import api


@pytest.fixture(scope="module")
def schema():
    return api.get_openapi_schema()


def operations(schema):
    for path, ops in schema["paths"].items():
        for method, op in ops.items():
            yield f"{method.upper()} {path}", op


def test_it_is_openapi_3_with_the_problem_codes(schema):
    assert schema["openapi"].startswith("3")
    assert "validation-failed" in schema["info"]["description"]


def test_every_operation_is_described_and_tagged(schema):
    missing = [name for name, op in operations(schema)
               if not (op.get("summary") or op.get("description")) or not op.get("tags")]
    assert missing == []


def test_every_operation_documents_its_errors_as_problem_json(schema):
    for name, op in operations(schema):
        errors = {code: r for code, r in op["responses"].items() if str(code).startswith("4")}
        assert errors, f"{name} documents no error response"
        for code, response in errors.items():
            assert list(response.get("content", {})) == ["application/problem+json"], (name, code)


def test_every_operation_declares_the_errors_it_can_answer(schema):
    """No catch-all `4XX`: each status named, by what the operation has. (That every
    status really answered is documented, core/tests/test_no_500_openapi.py checks.)"""
    missing = []
    for name, op in operations(schema):
        declared = {str(code) for code in op["responses"]}
        wanted = {"422"}  # any parameter, or any value, may be refused
        if any(p["in"] == "path" for p in op.get("parameters", [])):
            wanted.add("404")  # the object may not exist, or not be yours
        if op.get("requestBody"):
            wanted |= {"400", "415"}
        if op.get("security") and {} not in op["security"]:
            wanted.add("401")
        if "4XX" in declared or not wanted <= declared:
            missing.append(f"{name}: declares {sorted(declared)}, needs {sorted(wanted)}")
    assert missing == [], "\n".join(missing)


def test_a_documented_enum_is_what_the_filter_accepts(client, bearer, city_admin,
                                                     department_officer, schema):
    for path, user in (("/api/v1/governance/cases", city_admin),
                       ("/api/v1/registry/certificates", city_admin),
                       ("/api/v1/bundles/inbox", department_officer),
                       ("/api/v1/governance/inbox", department_officer)):
        (status,) = [p for p in schema["paths"][path]["get"]["parameters"]
                     if p["name"] == "status"]
        allowed = _enum(status["schema"], schema)
        assert allowed, f"{path} status declares no values"
        headers = bearer(user)
        assert client.get(path, {"status": allowed[0]}, headers=headers).status_code == 200
        response = client.get(path, {"status": "no-such-status"}, headers=headers)
        assert response.status_code == 422, path
        assert response.json()["errors"][0]["field"] in ("status", "status.0")


def _enum(node: dict, schema: dict) -> list:
    if "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]
    if "enum" in node:
        return node["enum"]
    for key in ("items", "anyOf"):
        children = node.get(key)
        for child in children if isinstance(children, list) else [children] if children else []:
            if found := _enum(child, schema):
                return found
    return []


def test_every_path_parameter_is_declared(schema):
    for name, op in operations(schema):
        path = name.split(" ", 1)[1]
        declared = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
        wanted = {part[1:-1] for part in path.split("/") if part.startswith("{")}
        assert wanted == declared, name


def test_errors_really_leave_as_problem_json(client):
    response = client.get("/api/v1/geo/locate", {"lon": "abc", "lat": "29.5"})
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "validation-failed"
    assert body["errors"][0]["field"] == "lon"


def test_no_two_schemas_share_a_component_name(schema):
    """Components are named by class: a second ConsentOut silently replaced the first,
    and the registry's consent answers were documented as the bundles' one."""
    from ninja import Schema

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    def shape(cls) -> str:
        return json.dumps(cls.model_json_schema(), sort_keys=True)

    by_name: dict[str, dict[str, str]] = {}
    for cls in subclasses(Schema):
        if cls.__module__.startswith("zhili.") and cls.__name__ in schema["components"]["schemas"]:
            by_name.setdefault(cls.__name__, {})[shape(cls)] = cls.__module__
    clashes = {name: sorted(shapes.values()) for name, shapes in by_name.items() if len(shapes) > 1}
    assert clashes == {}
