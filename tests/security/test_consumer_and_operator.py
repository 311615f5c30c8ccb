"""Threats T8 (an operator's mistake leaks the client secret) and T9 (a compromised consumer
service), against the admin API on moto, the CLI and the consumer grant's policy."""

from __future__ import annotations

import io
import json
import logging

import pytest
from ads_connect import table_schema as schema

from cli import main as cli_main
from tests.fixtures.aws import TEST_CLIENT_ID
from tests.infrastructure.helpers import as_list
from tests.infrastructure.test_deployed_permissions import _condition_holds
from tests.infrastructure.test_runtime_and_operations import grants, statements_of
from tests.integration.test_admin_api import Moto, moto_api

__all__ = ["grants", "moto_api"]
OPERATOR_SECRET = "operator-typed-lwa-secret-fixture"


def test_t8_the_client_secret_is_never_echoed_by_the_api_nor_logged(
    moto_api: Moto, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="amazon-ads-connect")
    # When the operator stores new credentials through the admin API
    status, body = moto_api.call(
        "PUT",
        "/admin/client-credentials",
        body={"client_id": TEST_CLIENT_ID, "client_secret": OPERATOR_SECRET},
    )
    # Then the answer and every log line carry the client id at most, never the secret
    assert status == 200
    assert OPERATOR_SECRET not in json.dumps(body) and OPERATOR_SECRET not in caplog.text
    # And the public copy the consent page reads holds the client id alone
    assert moto_api.vault.read_client_id() == TEST_CLIENT_ID


def test_t8_the_cli_refuses_a_secret_on_the_command_line() -> None:
    err = io.StringIO()
    code = cli_main.main(
        ["credentials", "set", "--client-id", TEST_CLIENT_ID, "--client-secret", OPERATOR_SECRET],
        io=cli_main.Io(stdin=io.StringIO(""), stdout=io.StringIO(), stderr=err),
    )
    assert code == 2 and OPERATOR_SECRET not in err.getvalue()


def test_t9_a_consumer_granted_one_tenant_reaches_only_that_tenants_access_tokens(grants) -> None:
    template, _stack, one, _every = grants
    statements = statements_of(template, one)
    rendered = json.dumps(statements)
    # No path to refresh tokens, the client secret or the private-token key
    assert "/refresh/" not in rendered and "lwa-client" not in rendered and "kms:" not in rendered
    # Its table access is a Query whose leading key must be its own tenant's
    [query] = [s for s in statements if "dynamodb:Query" in as_list(s["Action"])]
    assert _condition_holds(query["Condition"], (schema.tenant_pk("acme-42"),))
    assert not _condition_holds(query["Condition"], (schema.tenant_pk("globex"),))
    assert not _condition_holds(query["Condition"], (schema.operator_key("any")[schema.PARTITION_KEY],))
    assert not _condition_holds(query["Condition"], (schema.tenant_pk("acme-42x"),))
