"""The admin API's OpenAPI document, generated from the admin resolver's own routes, parameters
and pydantic models. ``make openapi`` writes it to docs/admin-api.openapi.json; a unit test
fails when the code and the committed document differ. Never used at run time.

    .venv/bin/python -m ads_connect.handlers.admin_openapi > docs/admin-api.openapi.json
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.event_handler.openapi.models import APIKey, APIKeyIn

from ads_connect.handlers.admin import app

TITLE = "Amazon Ads Connect admin API"
# The contract's version: raised when a change would break an existing caller.
ADMIN_API_VERSION = "1"
DESCRIPTION = (
    "IAM-authorized (SigV4, service execute-api) operator API of one Amazon Ads Connect deployment; "
    "its URL is the stack output AdminApiUrl. The ads-connect CLI is its client (docs/operator-cli.md). "
    "Every error answers {error: {code, message, reference}}; invalid input is 400, never 422."
)
_SIGV4 = APIKey.model_validate(
    {
        "type": "apiKey",
        "in": APIKeyIn.header,
        "name": "Authorization",
        "description": "AWS Signature Version 4 (API Gateway IAM authorization)",
        "x-amazon-apigateway-authtype": "awsSigv4",
    }
)
# powertools documents a 422 (and its schemas) for every validated route, and a schema for
# response validation errors; this handler answers invalid input with 400 and the one ErrorBody
# instead (handlers/admin.py, _validation_error), and validates no response.
_UNSENT_STATUS = "422"
_UNSENT_SCHEMAS = ("HTTPValidationError", "ValidationError", "ResponseValidationError")


def openapi_document() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(
        app.get_openapi_json_schema(
            title=TITLE,
            version=ADMIN_API_VERSION,
            description=DESCRIPTION,
            security_schemes={"sigv4": _SIGV4},
            security=[{"sigv4": []}],
        )
    )
    for operations in document["paths"].values():
        for operation in operations.values():
            operation["responses"].pop(_UNSENT_STATUS, None)
    schemas = document.get("components", {}).get("schemas", {})
    for name in _UNSENT_SCHEMAS:
        schemas.pop(name, None)
    return document


def render() -> str:
    """The committed file's exact text (sorted keys, two-space indent, final newline)."""
    return json.dumps(openapi_document(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    print(render(), end="")
