"""Stopping local mode never hangs: a server whose serve_forever never ran is closed, not shut down.

``socketserver.BaseServer.shutdown()`` waits for ``serve_forever`` to acknowledge; asked of a
server that never served it waits forever. These servers are real ``socketserver.BaseServer``s
(the class whose ``shutdown`` blocks) on a pipe instead of a socket: unit tests open no socket.
Every stop runs in a helper thread joined with a timeout, so a regression fails instead of
hanging the run.
"""

from __future__ import annotations

import os
import socketserver
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from local import gateway as gw
from local import runner as local_runner
from local.iam import LocalCredentials
from local.runner import LocalMode, LocalOptions
from local.servers import stop_serving
from local.template import Synthesized

STOP_JOIN_SECONDS = 20


class PipeServer(socketserver.BaseServer):
    """A BaseServer that serve_forever can select on (a pipe) and that records server_close."""

    def __init__(self, server_address: tuple[str, int], *_: Any) -> None:
        super().__init__(server_address, socketserver.BaseRequestHandler)
        self._read, self._write = os.pipe()
        self.closed = False
        self.shutdown_called = False

    def fileno(self) -> int:
        return self._read

    def shutdown(self) -> None:
        self.shutdown_called = True
        super().shutdown()

    def server_close(self) -> None:
        if not self.closed:
            os.close(self._read)
            os.close(self._write)
        self.closed = True


class PipeGatewayServer(PipeServer):
    """Stands in for local.gateway._Server (same constructor, a ``config``)."""

    def __init__(self, address: tuple[str, int], config: gw.GatewayConfig) -> None:
        super().__init__(address)
        self.config = config


@pytest.fixture
def servers() -> Iterator[list[PipeServer]]:
    made: list[PipeServer] = []
    yield made
    for server in made:  # never leak a pipe, whatever the test did
        server.server_close()


def returns_within(call: Callable[[], None], seconds: float = STOP_JOIN_SECONDS) -> bool:
    """Run ``call`` in a daemon thread; True when it returned in time (re-raising what it raised)."""
    errors: list[BaseException] = []

    def run() -> None:
        try:
            call()
        except Exception as error:  # noqa: BLE001 - re-raised in the test thread below
            errors.append(error)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout=seconds)
    if errors:
        raise errors[0]
    return not thread.is_alive()


def test_a_server_that_never_served_is_closed_and_stop_returns(servers: list[PipeServer]) -> None:
    server = PipeServer(("127.0.0.1", 1))
    servers.append(server)
    never_started = threading.Thread(target=server.serve_forever, daemon=True)
    assert returns_within(lambda: stop_serving(server, never_started))
    assert server.closed and not server.shutdown_called


def test_a_serving_server_is_shut_down_then_closed(servers: list[PipeServer]) -> None:
    server = PipeServer(("127.0.0.1", 1))
    servers.append(server)
    serving = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    serving.start()
    assert returns_within(lambda: stop_serving(server, serving))
    assert server.shutdown_called and server.closed and not serving.is_alive()


def test_a_server_whose_serving_thread_already_ended_is_closed(servers: list[PipeServer]) -> None:
    server = PipeServer(("127.0.0.1", 1))
    servers.append(server)
    ended = threading.Thread(target=lambda: None)
    ended.start()
    ended.join()
    assert returns_within(lambda: stop_serving(server, ended))
    assert server.closed


class FakeMoto:
    """Stands in for local.servers.LocalMotoServer: the real one binds a socket."""

    instances: list[FakeMoto] = []

    def __init__(self, host: str, port: int) -> None:
        self.endpoint = f"http://{host}:{port or 8301}"
        self.started = self.stopped = False
        FakeMoto.instances.append(self)

    def start(self) -> None:
        self.started = True

    def stop(self) -> None:
        self.stopped = True


def test_start_fails_after_the_gateway_exists_and_stop_returns(
    monkeypatch: pytest.MonkeyPatch, servers: list[PipeServer]
) -> None:
    # Given local mode whose start-up fails after the gateway's socket exists (the Amazon side
    # fails: a busy emulator port, bad external endpoints), before the gateway ever served
    def gateway_server(address: tuple[str, int], config: gw.GatewayConfig) -> PipeGatewayServer:
        server = PipeGatewayServer(address, config)
        servers.append(server)
        return server

    def amazon_fails(_: LocalMode) -> str:
        raise RuntimeError("the Amazon side could not start")

    monkeypatch.setattr(gw, "_Server", gateway_server)
    monkeypatch.setattr(local_runner, "LocalMotoServer", FakeMoto)
    monkeypatch.setattr(LocalMode, "_start_amazon", amazon_fails)
    monkeypatch.setattr(os, "environ", dict(os.environ))  # start() exports the local AWS settings
    FakeMoto.instances.clear()
    mode = LocalMode(LocalOptions(port=8300, credentials=LocalCredentials()), console=lambda _: None)
    with pytest.raises(RuntimeError, match="Amazon side"):
        mode.start(Synthesized("AdsLocal", {"Resources": {}}))
    [gateway] = servers
    assert mode.gateway is not None and FakeMoto.instances[0].started

    # When local mode stops, as __main__ does after a failed start
    # Then stop returns: the gateway is closed without a shutdown it would wait for forever
    assert returns_within(mode.stop), "LocalMode.stop() hung after a failed start"
    assert gateway.closed and not gateway.shutdown_called
    assert FakeMoto.instances[0].stopped


def test_one_part_failing_to_stop_does_not_keep_the_others_running(
    monkeypatch: pytest.MonkeyPatch, servers: list[PipeServer]
) -> None:
    lines: list[str] = []
    mode = LocalMode(LocalOptions(), console=lines.append)
    server = PipeGatewayServer(
        ("127.0.0.1", 1),
        gw.GatewayConfig(routes=[], invoke=lambda f, e: None, credentials=LocalCredentials()),
    )
    servers.append(server)

    class BrokenEmulator:
        def stop(self) -> None:
            raise OSError("emulator socket already gone")

    moto = FakeMoto("127.0.0.1", 0)
    monkeypatch.setattr(gw, "_Server", lambda address, config: server)
    mode.gateway = gw.LocalGateway(server.config)
    mode._emulator_server = BrokenEmulator()
    mode.moto = moto  # type: ignore[assignment]
    assert returns_within(mode.stop)
    assert server.closed and moto.stopped
    assert any("stopping the Amazon emulator failed" in line for line in lines)
