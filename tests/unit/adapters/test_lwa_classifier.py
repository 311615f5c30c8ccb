"""The one LWA error classifier (adapters/lwa.py): every code the emulator can answer has a row,
and each row sends the flows down the right path by type."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from ads_connect.adapters.lwa import NOT_PROCESSED_STATUSES, TOKEN_ERROR_TYPES, classify_token_error
from ads_connect.logic.consent_errors import KNOWN_OAUTH_ERRORS
from ads_connect.logic.ports import (
    AmazonError,
    AmazonNotProcessedError,
    AmazonRequestRejectedError,
    InvalidClientError,
    InvalidGrantError,
    TransientAmazonError,
    UnauthorizedClientError,
)

from emulator import core as emulator_core

REPO = Path(__file__).resolve().parents[3]

# What each code must mean, written out independently of the table it checks.
EXPECTED: dict[str, type[AmazonError]] = {
    "invalid_grant": InvalidGrantError,  # one tenant: re-consent
    "invalid_client": InvalidClientError,  # the operator: pause, one alarm
    "unauthorized_client": UnauthorizedClientError,  # the operator too (an InvalidClientError)
    "invalid_request": AmazonRequestRejectedError,  # counted failure, never a revocation
    "unsupported_grant_type": AmazonRequestRejectedError,
    "invalid_scope": AmazonRequestRejectedError,
    "server_error": TransientAmazonError,  # may have been processed: a code is not re-sent
    "temporarily_unavailable": AmazonNotProcessedError,  # not processed: a code may be re-sent
}


def _emulator_default_status(code: str) -> int:
    return emulator_core._TOKEN_ERROR_STATUS.get(code, 400)


def test_every_code_the_emulator_can_answer_has_a_row() -> None:
    assert set(emulator_core.TOKEN_ERRORS) <= set(TOKEN_ERROR_TYPES), (
        "add the new code to adapters/lwa.py TOKEN_ERROR_TYPES (CONTRIBUTING.md: an Amazon error code)"
    )
    assert set(TOKEN_ERROR_TYPES) == set(EXPECTED)


@pytest.mark.parametrize("code", emulator_core.TOKEN_ERRORS)
def test_each_emulator_code_at_its_usual_status_is_classified_as_expected(code: str) -> None:
    error_type, recorded = classify_token_error(_emulator_default_status(code), code)
    assert error_type is EXPECTED[code] and recorded == code


@pytest.mark.parametrize("code", emulator_core.TOKEN_ERRORS)
@pytest.mark.parametrize("status", [429, 500, 502, 503])
def test_throttling_and_5xx_are_transient_whatever_the_body_says(code: str, status: int) -> None:
    error_type, recorded = classify_token_error(status, code)
    assert issubclass(error_type, TransientAmazonError) and recorded == code
    assert issubclass(error_type, AmazonNotProcessedError) is (
        status in NOT_PROCESSED_STATUSES or code == "temporarily_unavailable"
    )


@pytest.mark.parametrize(
    "code", [c for c in emulator_core.TOKEN_ERRORS if EXPECTED[c] is not TransientAmazonError]
)
def test_a_401_is_the_clients_failure_unless_it_names_invalid_grant(code: str) -> None:
    error_type, recorded = classify_token_error(401, code)
    if code == "invalid_grant":
        assert (error_type, recorded) == (InvalidGrantError, "invalid_grant")
    elif code == "temporarily_unavailable":
        assert error_type is AmazonNotProcessedError
    else:
        assert (error_type, recorded) == (InvalidClientError, "invalid_client")


def test_an_unknown_code_is_a_rejected_request_never_a_revocation() -> None:
    assert classify_token_error(400, "http_404") == (AmazonRequestRejectedError, "http_404")
    assert classify_token_error(404, "something_new") == (AmazonRequestRejectedError, "something_new")


def test_the_redirect_error_list_matches_what_the_emulator_can_send() -> None:
    # The authorization redirect's codes (pages explain them) follow Amazon's side too.
    assert set(emulator_core.AUTHORIZE_ERRORS) == set(KNOWN_OAUTH_ERRORS)


def test_no_flow_reads_an_amazon_error_code_string() -> None:
    # Logic matches types: `error.error_code == "..."` (or `in (...)`) outside the classifier
    # would be a second classifier nothing keeps in step.
    offenders = []
    for path in sorted((REPO / "lambdas/ads_connect").rglob("*.py")):
        if path.name == "lwa.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Compare)
                and isinstance(node.left, ast.Attribute)
                and node.left.attr == "error_code"
                and any(isinstance(op, ast.Eq | ast.NotEq | ast.In | ast.NotIn) for op in node.ops)
            ):
                offenders.append(f"{path.relative_to(REPO)}:{node.lineno}")
    assert not offenders, f"match the typed errors of logic/ports.py instead: {offenders}"
