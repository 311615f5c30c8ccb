"""The admin API's OpenAPI document: the committed docs/admin-api.openapi.json is exactly what
the admin resolver generates (run `make openapi` after changing a route or a model), and it
describes what the handler really answers."""

from __future__ import annotations

import json
from pathlib import Path

from ads_connect.handlers import admin
from ads_connect.handlers.admin_openapi import openapi_document, render

COMMITTED = Path(__file__).resolve().parents[2] / "docs" / "admin-api.openapi.json"


def test_the_committed_document_is_what_the_code_generates() -> None:
    assert COMMITTED.read_text() == render(), (
        "docs/admin-api.openapi.json differs from the admin routes: run `make openapi` and commit it"
    )


def test_every_route_of_the_handler_is_documented_with_its_success_body() -> None:
    document = openapi_document()
    documented = {
        (method.upper(), path) for path, operations in document["paths"].items() for method in operations
    }
    assert len(documented) == len(admin._ROUTES)
    for method, pattern in admin._ROUTES:
        assert any(m == method and pattern.match(p.replace("{", "").replace("}", "")) for m, p in documented)
    for operations in document["paths"].values():
        for operation in operations.values():
            successes = [code for code in operation["responses"] if code.startswith("2")]
            assert len(successes) == 1
            body = operation["responses"][successes[0]]["content"]["application/json"]["schema"]
            assert body["$ref"].startswith("#/components/schemas/")


def test_errors_are_documented_as_the_one_error_body_and_never_422() -> None:
    document = openapi_document()
    for operations in document["paths"].values():
        for operation in operations.values():
            assert "422" not in operation["responses"]
            for code, answer in operation["responses"].items():
                if code.startswith(("4", "5")):
                    schema = answer["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/ErrorBody"}
    assert "HTTPValidationError" not in json.dumps(document)


def test_the_document_requires_sigv4_and_never_shows_the_client_secret() -> None:
    document = openapi_document()
    assert document["security"] == [{"sigv4": []}]
    assert document["components"]["securitySchemes"]["sigv4"]["x-amazon-apigateway-authtype"] == "awsSigv4"
    request = document["components"]["schemas"]["ClientCredentialsRequest"]["properties"]["client_secret"]
    assert request.get("writeOnly") is True
    responses = [
        name
        for name in document["components"]["schemas"]
        if "client_secret" in json.dumps(document["components"]["schemas"][name])
        and name != "ClientCredentialsRequest"
    ]
    assert responses == []
