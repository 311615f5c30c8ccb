"""Keeping local state across runs (``--state-dir``): our own export/import, not moto's.

moto server keeps everything in memory; its recorder (MOTO_ENABLE_RECORDING) replays every
request ever made, which grows without bound and replays side effects. Instead, on a clean stop
(and after every schedule round) local mode writes one JSON file with the table items, every
secret's current value and the in-process emulator's accounts and grants, and on start it loads
them back after creating the resources from the template. The file holds local tokens: it is
written with mode 0600 and the directory belongs in .gitignore (``.local-state/`` is).
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from emulator import Emulator

STATE_FILE = "local-state.json"
FORMAT_VERSION = 1


def export_aws(clients: Any, tables: list[str]) -> dict[str, Any]:
    dynamodb = clients("dynamodb")
    items: dict[str, list[dict[str, Any]]] = {}
    for table in tables:
        rows: list[dict[str, Any]] = []
        for page in dynamodb.get_paginator("scan").paginate(TableName=table):
            rows += page.get("Items", [])
        items[table] = rows
    secretsmanager = clients("secretsmanager")
    secrets: list[dict[str, Any]] = []
    for page in secretsmanager.get_paginator("list_secrets").paginate():
        for entry in page.get("SecretList", []):
            if entry.get("DeletedDate"):
                continue  # scheduled for deletion: gone as far as the product is concerned
            value = secretsmanager.get_secret_value(SecretId=entry["ARN"])
            policy = secretsmanager.get_resource_policy(SecretId=entry["ARN"]).get("ResourcePolicy")
            secrets.append(
                {
                    "Name": entry["Name"],
                    "Description": entry.get("Description"),
                    "KmsKeyId": entry.get("KmsKeyId"),
                    "SecretString": value.get("SecretString"),
                    "ResourcePolicy": policy,
                }
            )
    return {"tables": items, "secrets": secrets}


def import_aws(clients: Any, data: dict[str, Any], *, keep_created: set[str]) -> None:
    """Restore items and secrets; secrets the template just created get their saved value
    except those in ``keep_created`` (the LWA client secret local mode configures each run)."""
    dynamodb = clients("dynamodb")
    for table, rows in data.get("tables", {}).items():
        for row in rows:
            dynamodb.put_item(TableName=table, Item=row)
    secretsmanager = clients("secretsmanager")
    for secret in data.get("secrets", []):
        name = secret["Name"]
        if name in keep_created or secret.get("SecretString") is None:
            continue
        try:
            secretsmanager.put_secret_value(SecretId=name, SecretString=secret["SecretString"])
        except secretsmanager.exceptions.ResourceNotFoundException:
            kwargs: dict[str, Any] = {"Name": name, "SecretString": secret["SecretString"]}
            if secret.get("Description"):
                kwargs["Description"] = secret["Description"]
            if secret.get("KmsKeyId"):
                kwargs["KmsKeyId"] = secret["KmsKeyId"]
            secretsmanager.create_secret(**kwargs)
        if secret.get("ResourcePolicy"):
            secretsmanager.put_resource_policy(SecretId=name, ResourcePolicy=secret["ResourcePolicy"])


def export_emulator(emu: Emulator) -> dict[str, Any]:
    return emu.export_state()


def import_emulator(emu: Emulator, data: dict[str, Any]) -> None:
    emu.import_state(data)


def save(state_dir: Path, snapshot: dict[str, Any]) -> Path:
    state_dir.mkdir(parents=True, exist_ok=True)
    target = state_dir / STATE_FILE
    descriptor, scratch = tempfile.mkstemp(dir=state_dir, prefix=".state-", suffix=".json")
    try:
        with os.fdopen(descriptor, "w") as handle:
            json.dump({"version": FORMAT_VERSION, **snapshot}, handle)
        os.chmod(scratch, 0o600)
        os.replace(scratch, target)  # atomic: a crash never leaves half a file
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(scratch)
        raise
    return target


def load(state_dir: Path) -> dict[str, Any] | None:
    target = state_dir / STATE_FILE
    if not target.exists():
        return None
    data = json.loads(target.read_text())
    if data.get("version") != FORMAT_VERSION:
        raise ValueError(f"{target} was written by another version of local mode; delete it to start fresh")
    return dict(data)
