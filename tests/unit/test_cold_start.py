"""Cold starts (docs/decisions.md, "Cold starts"): the public handlers import without the X-Ray
SDK or pydantic, and their SnapStart hooks prepare the snapshot and renew what restored environments must not
share."""

from __future__ import annotations

import importlib.machinery
import json
import random
import subprocess
import sys
import types
from pathlib import Path

import pytest
from ads_connect.handlers import dependencies, snapstart

from tests.unit.connect.conftest import pages_settings

LAMBDAS = Path(__file__).resolve().parents[2] / "lambdas"
PUBLIC = ("consent", "callback")
NOT_PUBLIC = ("admin", "refresh_scheduler", "refresh_worker")


# What the public path leaves out (docs/decisions.md, "Cold starts"): each is tens to hundreds of
# milliseconds of an advertiser's wait. The admin API's models are pydantic and its own.
KEPT_OUT = {
    "xray": "aws_xray_sdk",
    "pydantic": "pydantic",
    "admin_api_models": "ads_connect.models.admin_api",
}
# A deployed function's environment, made up: enough to build the first request's dependencies.
PUBLIC_ENVIRONMENT = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing-not-a-key",
    "AWS_SECRET_ACCESS_KEY": "testing-not-a-secret",
    "POWERTOOLS_SERVICE_NAME": "amazon-ads-connect",
    "ADS_CONNECT_TABLE_NAME": "ads-connect-test",
    "ADS_CONNECT_SECRET_PREFIX": "ads-connect/test",
    "ADS_CONNECT_LWA_SECRET_ID": "ads-connect/test/lwa-client",
    "ADS_CONNECT_EVENT_BUS_NAME": "ads-connect-test",
    "ADS_CONNECT_APP_NAME": "Acme Reports",
    "ADS_CONNECT_SUPPORT_CONTACT": "support@acme.example",
}


def loaded_after_import(handler: str, *, build_public_dependencies: bool = False) -> dict[str, bool]:
    """Import one handler in a fresh interpreter (this one has everything loaded already) and,
    for a public one, build what its first request builds, as a cold start does."""
    build = (
        "from ads_connect.handlers.dependencies import public_dependencies; public_dependencies(); "
        if build_public_dependencies
        else ""
    )
    code = (
        f"import json, sys; sys.path.insert(0, {str(LAMBDAS)!r}); import ads_connect.handlers.{handler}; "
        f"{build}print(json.dumps({{name: any(m == top or m.startswith(top + '.') for m in sys.modules) "
        f"for name, top in {KEPT_OUT!r}.items()}}))"
    )
    result = subprocess.run(
        [sys.executable, "-I", "-c", code],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        env=PUBLIC_ENVIRONMENT,
    )
    loaded: dict[str, bool] = json.loads(result.stdout.strip().splitlines()[-1])
    return loaded


@pytest.mark.parametrize("handler", PUBLIC)
def test_a_public_handler_and_its_first_requests_dependencies_stay_off_the_slow_imports(handler: str) -> None:
    assert loaded_after_import(handler, build_public_dependencies=True) == dict.fromkeys(KEPT_OUT, False)


@pytest.mark.parametrize("handler", NOT_PUBLIC)
def test_the_other_handlers_keep_their_xray_tracer(handler: str) -> None:
    # Proves the probe above can see what it looks for: these build the Tracer at import and
    # use pydantic payloads (the admin API's bodies, the work queue's message).
    loaded = loaded_after_import(handler)
    assert loaded["xray"] is True
    assert loaded["pydantic"] is True
    assert loaded["admin_api_models"] is (handler == "admin")


# --- SnapStart hooks ---------------------------------------------------------------------------


@pytest.fixture
def fake_runtime(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[object]]:
    """A stand-in for the Lambda runtime's snapshot_restore_py, recording what is registered."""
    registered: dict[str, list[object]] = {"before_snapshot": [], "after_restore": []}
    module = types.ModuleType(snapstart.HOOKS_MODULE)
    module.__spec__ = importlib.machinery.ModuleSpec(snapstart.HOOKS_MODULE, None)
    module.register_before_snapshot = registered["before_snapshot"].append  # type: ignore[attr-defined]
    module.register_after_restore = registered["after_restore"].append  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, snapstart.HOOKS_MODULE, module)
    snapstart.register_hooks.cache_clear()
    yield registered
    snapstart.register_hooks.cache_clear()


def test_without_the_lambda_runtime_no_hook_is_registered() -> None:
    snapstart.register_hooks.cache_clear()
    assert snapstart.HOOKS_MODULE not in sys.modules
    assert snapstart.register_hooks() is False


def test_on_the_lambda_runtime_both_hooks_are_registered_once(fake_runtime: dict[str, list[object]]) -> None:
    assert snapstart.register_hooks() is True
    assert snapstart.register_hooks() is True  # a second public handler in the process
    assert fake_runtime == {
        "before_snapshot": [snapstart.before_snapshot],
        "after_restore": [snapstart.after_restore],
    }


def test_before_the_snapshot_the_first_requests_dependencies_are_built(
    monkeypatch: pytest.MonkeyPatch, static_aws_credentials: None
) -> None:
    settings = pages_settings()
    monkeypatch.setattr(type(settings), "from_environment", classmethod(lambda cls: settings))
    dependencies.reset()
    try:
        snapstart.before_snapshot()
        assert dependencies.public_dependencies.cache_info().currsize == 1
        built = dependencies.public_dependencies()
        assert built.settings is settings
        # Both stores share one table object: one DynamoDB client in the snapshot.
        assert built.callback.store._table is built.callback.consent_store._table  # type: ignore[attr-defined]
    finally:
        dependencies.reset()


def test_each_restored_environment_draws_its_own_random_numbers() -> None:
    draws = []
    for _ in range(2):
        random.seed(1234)  # the state every environment resumed from one snapshot would hold
        snapstart.after_restore()
        draws.append([random.random() for _ in range(4)])
    random.seed(1234)
    assert draws[0] != draws[1]
    assert random.random() not in (draws[0][0], draws[1][0])
