"""The one region table (ads_connect/regions.py): what derives from it, and the emulator's own copy."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest
from ads_connect.regions import (
    AMAZON_ENDPOINTS,
    REGION_CODES,
    REGIONS,
    EndpointsConfigError,
    Region,
    RegionEndpoints,
    parse_endpoints,
)

from emulator import core as emulator_core
from emulator.demo import demo_accounts

REPO = Path(__file__).resolve().parents[2]


def test_the_emulator_plays_exactly_the_products_regions() -> None:
    # The emulator must not import lambdas/ (it plays Amazon's side), so it keeps its own list:
    # adding a region to the product without the emulator (or the reverse) fails here.
    assert tuple(emulator_core.REGIONS) == REGION_CODES
    # And its demo advertiser has a profile in each, so local mode's demo covers every region.
    assert {region for account in demo_accounts() for region in account["profiles"]} == set(REGION_CODES)


def test_every_region_has_one_row_and_every_view_derives_from_it() -> None:
    assert set(REGIONS) == set(Region) and tuple(r.value for r in Region) == REGION_CODES
    for region, info in REGIONS.items():
        assert AMAZON_ENDPOINTS[region] is info.endpoints
        assert info.marketplaces and all(len(c) == 2 and c.isupper() for c in info.marketplaces)
    every = [c for info in REGIONS.values() for c in info.marketplaces]
    assert len(every) == len(set(every)), "a marketplace belongs to one region"
    # Labels list marketplaces next to region names: a region code that is also a marketplace
    # code ("SA" is Saudi Arabia, in EU) would read ambiguously.
    assert not set(REGION_CODES) & set(every)


def test_only_the_region_table_spells_an_amazon_host() -> None:
    hosts = {
        url.split("/")[2]
        for info in REGIONS.values()
        for url in (info.endpoints.authorization_url, info.endpoints.token_url, info.endpoints.api_url)
    }
    offenders = []
    for path in [
        *(REPO / "lambdas").rglob("*.py"),
        *(REPO / "cli").rglob("*.py"),
        *(REPO / "stacks").rglob("*.py"),
    ]:
        if path.name == "regions.py":
            continue
        text = path.read_text()
        offenders += [f"{path.relative_to(REPO)}: {host}" for host in hosts if host in text]
    assert not offenders


def test_no_module_writes_its_own_tuple_of_region_codes() -> None:
    # ("NA", "EU", "FE") anywhere but the table and the emulator is a copy nothing keeps in step.
    codes = set(REGION_CODES)
    allowed = {REPO / "lambdas/ads_connect/regions.py", REPO / "emulator/core.py"}
    offenders = []
    for folder in ("lambdas", "cli", "local", "stacks", "bench", "tests"):
        for path in (REPO / folder).rglob("*.py"):
            if path in allowed:
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Tuple | ast.List | ast.Set):
                    values = {e.value for e in node.elts if isinstance(e, ast.Constant)}
                    if len(node.elts) > 1 and values == codes:
                        offenders.append(f"{path.relative_to(REPO)}:{node.lineno}")
    assert not offenders, f"derive these from ads_connect.regions: {offenders}"


def test_the_table_and_the_key_builder_import_without_pydantic_or_powertools() -> None:
    # The consumer client package ships these two files on their own.
    code = (
        "import sys; import ads_connect.regions, ads_connect.table_schema; "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('pydantic', 'aws_lambda_powertools', 'boto3', 'botocore', 'requests')); print(bad)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO / "lambdas", capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def _override(**changes: object) -> str:
    data = {
        r.value: {
            "authorization_url": "http://127.0.0.1:1/ap/oa",
            "token_url": "http://127.0.0.1:1/t",
            "api_url": "http://127.0.0.1:1",
        }
        for r in Region
    }
    data.update(changes)
    return json.dumps(data)


def test_parse_endpoints_defaults_to_amazon_and_reads_an_override() -> None:
    assert parse_endpoints(None) == dict(AMAZON_ENDPOINTS) == parse_endpoints("  ")
    parsed = parse_endpoints(_override())
    assert parsed[Region.EU].api_base == "http://127.0.0.1:1"
    assert parsed[Region.NA].authorization_origin == "http://127.0.0.1:1"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("{", "not valid JSON"),
        ("[]", f"JSON object keyed by {', '.join(REGION_CODES)}"),
        (json.dumps({"NA": {}}), f"missing: {[code for code in REGION_CODES if code != 'NA']}"),
        (_override(XX={}), "unknown: ['XX']"),
        (_override(EU={"token_url": "http://x"}), "EU must be an object with exactly"),
        (
            _override(FE={"authorization_url": "ftp://x/a", "token_url": "http://x", "api_url": "http://x"}),
            "FE.authorization_url must be an http(s) URL",
        ),
        (
            _override(
                NA={"authorization_url": "http://x/a", "token_url": "http:///t", "api_url": "http://x"}
            ),
            "NA.token_url",
        ),
        (
            _override(
                NA={"authorization_url": "http://x/a", "token_url": "http://x:99999", "api_url": "http://x"}
            ),
            "NA.token_url",
        ),
        (
            _override(
                NA={"authorization_url": "http://x/a b", "token_url": "http://x", "api_url": "http://x"}
            ),
            "NA.authorization_url",
        ),
    ],
)
def test_a_malformed_override_names_what_is_wrong(raw: str, message: str) -> None:
    with pytest.raises(EndpointsConfigError) as error:
        parse_endpoints(raw)
    assert message in str(error.value)


def test_region_endpoints_refuse_a_non_http_url() -> None:
    with pytest.raises(EndpointsConfigError, match="api_url"):
        RegionEndpoints(authorization_url="https://a/oa", token_url="https://a/t", api_url="javascript:x")
