"""The OpenAPI document is part of the product: a test keeps it complete."""

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
