"""The table's item keys: their stored formats, and the rule that only table_schema.py builds them."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from ads_connect import table_schema as schema
from ads_connect.regions import Region
from ads_connect.table_schema import ConsentKind

REPO = Path(__file__).resolve().parents[2]
BUILDER = REPO / "lambdas/ads_connect/table_schema.py"
# Everything that could build or match a key: the functions (adapters, consumer client), the
# stack (IAM conditions), local mode, the CLI, the benchmarks, the emulator and the tests.
SCANNED = ("lambdas", "stacks", "local", "cli", "bench", "emulator", "tests", "app.py")
KEY_PREFIXES = (
    schema.TENANT_PREFIX,
    schema.CONNECTION_PREFIX,
    schema.PROFILE_PREFIX,
    schema.ATTEMPT_PREFIX,
    schema.AUDIT_PREFIX,
    *(f"{kind.value}#" for kind in ConsentKind),
)


def test_stored_key_formats_do_not_change() -> None:
    # Persisted data: a changed format orphans every stored item (spelled out here on purpose).
    assert schema.connection_key("acme", Region.EU) == {"pk": "TENANT#acme", "sk": "CONN#EU"}
    assert schema.profile_key("acme", Region.NA, "123") == {"pk": "TENANT#acme", "sk": "PROFILE#NA#123"}
    assert schema.profiles_sk_prefix() == "PROFILE#" and schema.profiles_sk_prefix(Region.FE) == "PROFILE#FE#"
    assert schema.attempt_key("acme", "2026-01-01T00:00:00+00:00", Region.NA, "ab12") == {
        "pk": "TENANT#acme",
        "sk": "ATTEMPT#2026-01-01T00:00:00+00:00#NA#ab12",
    }
    assert schema.audit_key("acme", "2026-01-01T00:00:00+00:00", "ab12") == {
        "pk": "TENANT#acme",
        "sk": "AUDIT#2026-01-01T00:00:00+00:00#ab12",
    }
    assert schema.consent_key(ConsentKind.SESSION, "h") == {"pk": "SESSION#h", "sk": "SESSION"}
    assert schema.consent_key(ConsentKind.STATE, "h") == {"pk": "STATE#h", "sk": "STATE"}
    assert schema.consent_key(ConsentKind.RESULT, "h") == {"pk": "RESULT#h", "sk": "RESULT"}
    assert schema.consent_pk_pattern(ConsentKind.STATE) == "STATE#*"
    assert schema.operator_key("client-credentials-invalid") == {
        "pk": "OPERATOR",
        "sk": "client-credentials-invalid",
    }
    assert schema.tenant_region("acme", Region.EU) == "acme#EU"


def test_a_connection_key_reads_back() -> None:
    key = schema.connection_key("acme-1", Region.FE)
    assert schema.parse_connection_key(key["pk"], key["sk"]) == ("acme-1", "FE")
    with pytest.raises(ValueError, match="not a connection"):
        schema.parse_connection_key("OPERATOR", "client-credentials-invalid")


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def key_spellings(path: Path, root: Path = REPO) -> list[str]:
    """Where ``path`` spells a key prefix (or the operator partition) in a string (docstrings aside)."""
    tree = ast.parse(path.read_text())
    docstrings = _docstrings(tree)
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Constant) and isinstance(node.value, str)) or id(node) in docstrings:
            continue
        if node.value == schema.OPERATOR_PARTITION or any(p in node.value for p in KEY_PREFIXES):
            found.append(f"{path.relative_to(root)}:{node.lineno}: {node.value!r}")
    return found


def test_no_module_but_the_key_builder_spells_a_key_prefix() -> None:
    paths = [REPO / name for name in SCANNED if name.endswith(".py")]
    paths += [p for name in SCANNED if not name.endswith(".py") for p in sorted((REPO / name).rglob("*.py"))]
    offenders = [
        spelled
        for path in paths
        if path not in (BUILDER, Path(__file__).resolve())
        for spelled in key_spellings(path)
    ]
    assert not offenders, "build these with ads_connect.table_schema:\n" + "\n".join(offenders)


def test_the_scan_sees_an_f_string_key(tmp_path: Path) -> None:
    # The guard itself must catch the copies it exists for (f-strings, plain strings, IAM patterns).
    sample = tmp_path / "sample.py"
    sample.write_text(
        '"""Docstrings may describe TENANT#<tenant>."""\n'
        'KEY = f"TENANT#{1}"\n'
        'PATTERN = ["STATE#*"]\n'
        'PAUSE = {"pk": "OPERATOR"}\n'
    )
    assert [line.split(":")[1] for line in key_spellings(sample, tmp_path)] == ["2", "3", "4"]
