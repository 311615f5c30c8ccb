"""Cold starts (docs/decisions.md, "Cold starts"): the public functions run with Lambda SnapStart
behind an alias of their current published version, and the API invokes that alias.

SnapStart keeps the init phase (imports and the first request's dependencies) off the
advertiser's cold start: a restored environment resumes from the snapshot. Compiling is no longer
part of that init: both assets ship CPython 3.12 bytecode (tests/infrastructure/test_packaging.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from stacks.functions import LIVE_ALIAS
from tests.infrastructure.conftest import Synthesized, cdk_json_context, synthesize
from tests.infrastructure.helpers import describe

PUBLIC = ("consent", "callback")
NOT_PUBLIC = ("admin", "refresh_scheduler", "refresh_worker")


def function_id(synthesized: Synthesized, kind: str) -> str:
    return synthesized.logical_id(synthesized.stack.ads_connect.functions[kind])


def aliases_of(synthesized: Synthesized, kind: str) -> dict[str, dict]:
    fid = function_id(synthesized, kind)
    return {
        logical_id: alias
        for logical_id, alias in synthesized.of_type("AWS::Lambda::Alias").items()
        if describe(alias["Properties"]["FunctionName"]) == fid
    }


@pytest.mark.parametrize("kind", PUBLIC)
def test_public_functions_snapshot_their_published_versions(synthesized: Synthesized, kind: str) -> None:
    props = synthesized.resources[function_id(synthesized, kind)]["Properties"]
    assert props["SnapStart"] == {"ApplyOn": "PublishedVersions"}
    assert props["Runtime"] == "python3.12"  # SnapStart for Python needs 3.12 or later
    assert props["TracingConfig"] == {"Mode": "Active"}  # traces stay on, without the SDK
    # SnapStart's documented exclusions: provisioned concurrency, EFS, ephemeral storage > 512 MB.
    assert "FileSystemConfigs" not in props
    assert props.get("EphemeralStorage", {"Size": 512})["Size"] <= 512


@pytest.mark.parametrize("kind", NOT_PUBLIC)
def test_other_functions_run_without_snapstart_or_alias(synthesized: Synthesized, kind: str) -> None:
    props = synthesized.resources[function_id(synthesized, kind)]["Properties"]
    assert "SnapStart" not in props
    assert aliases_of(synthesized, kind) == {}


@pytest.mark.parametrize("kind", PUBLIC)
def test_the_live_alias_points_at_the_current_version_and_old_versions_are_deleted(
    synthesized: Synthesized, kind: str
) -> None:
    [alias] = aliases_of(synthesized, kind).values()
    assert alias["Properties"]["Name"] == LIVE_ALIAS
    assert "ProvisionedConcurrencyConfig" not in alias["Properties"]
    version_id = describe(alias["Properties"]["FunctionVersion"]).removesuffix(".Version")
    version = synthesized.resources[version_id]
    assert version["Type"] == "AWS::Lambda::Version"
    assert describe(version["Properties"]["FunctionName"]) == function_id(synthesized, kind)
    # A retained SnapStart version would keep paying for its cached snapshot.
    assert version["DeletionPolicy"] == "Delete"


def integration_targets(synthesized: Synthesized) -> dict[str, str]:
    """Route key -> the logical id its integration invokes (a function or an alias)."""
    integrations = synthesized.of_type("AWS::ApiGatewayV2::Integration")
    targets = {}
    for route in synthesized.of_type("AWS::ApiGatewayV2::Route").values():
        integration_id = describe(route["Properties"]["Target"]).split("/")[-1]
        uri = integrations[integration_id]["Properties"]["IntegrationUri"]
        targets[route["Properties"]["RouteKey"]] = describe(uri).removesuffix(".Arn")
    return targets


def test_the_public_routes_invoke_the_alias_and_admin_the_function(synthesized: Synthesized) -> None:
    targets = integration_targets(synthesized)
    [consent_alias] = aliases_of(synthesized, "consent")
    [callback_alias] = aliases_of(synthesized, "callback")
    assert targets["GET /connect/{session_id}"] == consent_alias
    assert targets["POST /connect/{session_id}"] == consent_alias
    assert targets["GET /callback"] == callback_alias
    assert targets["GET /result/{result_id}"] == callback_alias
    assert targets["ANY /admin/{proxy+}"] == function_id(synthesized, "admin")


@pytest.mark.parametrize("kind", PUBLIC)
def test_api_gateway_invokes_the_alias_never_the_bare_function(synthesized: Synthesized, kind: str) -> None:
    [alias_id] = aliases_of(synthesized, kind)
    fid = function_id(synthesized, kind)
    permissions = [
        p["Properties"]
        for p in synthesized.of_type("AWS::Lambda::Permission").values()
        if p["Properties"]["Principal"] == "apigateway.amazonaws.com"
        and describe(p["Properties"]["FunctionName"]).removesuffix(".Arn") in (alias_id, fid)
    ]
    assert permissions, f"no API Gateway permission for {kind}"
    assert {describe(p["FunctionName"]) for p in permissions} == {alias_id}


def test_snap_start_off_runs_every_function_unqualified(tmp_path: Path) -> None:
    # For the regions without SnapStart (cdk.json ads-connect.snap_start = false).
    context = cdk_json_context()
    off = synthesize(tmp_path, {"ads-connect": {**context["ads-connect"], "snap_start": False}}, nag=False)
    assert off.of_type("AWS::Lambda::Alias") == {}
    assert off.of_type("AWS::Lambda::Version") == {}
    for kind in PUBLIC:
        assert "SnapStart" not in off.resources[function_id(off, kind)]["Properties"]
    targets = integration_targets(off)
    assert targets["GET /connect/{session_id}"] == function_id(off, "consent")
    assert targets["GET /callback"] == function_id(off, "callback")
