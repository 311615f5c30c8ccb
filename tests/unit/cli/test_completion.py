"""``ads-connect completion bash``: the script is read off the parser, and bash really completes
groups, commands and options with it (values of options are skipped)."""

from __future__ import annotations

import io
import shutil
import subprocess

import pytest

from cli.main import Io, main

pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")


def _script() -> str:
    out = io.StringIO()
    assert main(["completion", "bash"], io=Io(stdout=out, stderr=io.StringIO())) == 0
    return out.getvalue()


def _complete(script: str, *words: str) -> list[str]:
    line = " ".join(f"'{w}'" for w in words)
    program = "\n".join(
        [
            script,
            f"COMP_WORDS=({line}); COMP_CWORD={len(words) - 1}",
            "_ads_connect_complete_ads_connect",
            'printf "%s\\n" "${COMPREPLY[@]}"',
        ]
    )
    ran = subprocess.run(
        ["bash", "--norc", "-c", program], capture_output=True, text=True, check=True, timeout=30
    )
    return sorted(filter(None, ran.stdout.splitlines()))


def test_bash_completes_groups_commands_options_and_regions() -> None:
    script = _script()
    assert "complete -F _ads_connect_complete_ads_connect ads-connect" in script
    assert _complete(script, "ads-connect", "conn") == ["connections"]
    assert _complete(script, "ads-connect", "tenants", "") == ["--help", "list", "show"]
    # A global option's value is not taken for the group
    assert _complete(script, "ads-connect", "--api-url", "http://x", "tenants", "s") == ["show"]
    assert "--recovery-days" in _complete(
        script, "ads-connect", "connections", "disconnect", "acme", "EU", "--"
    )
    assert "--url-only" in _complete(script, "ads-connect", "sessions", "create", "--")
    assert "--version" in _complete(script, "ads-connect", "--")
