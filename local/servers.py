"""Starting and stopping local mode's HTTP servers without ever blocking a stop.

``socketserver.BaseServer.shutdown()`` asks ``serve_forever`` to return and waits until it has:
on a server whose ``serve_forever`` never ran (start-up failed after the socket was bound) it
waits forever. Every server here is stopped through :func:`stop_serving`, which asks only a
running serving thread to shut down and always closes the socket.
"""

from __future__ import annotations

import socketserver
import threading

from moto.server import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import BaseWSGIServer, make_server

JOIN_SECONDS = 5.0


def stop_serving(
    server: socketserver.BaseServer, thread: threading.Thread, *, join_seconds: float = JOIN_SECONDS
) -> None:
    """Stop ``server`` served from ``thread`` (started or not) and release its socket."""
    try:
        # A thread that is alive runs (or is about to run) serve_forever, which answers shutdown();
        # one that ran and ended has already acknowledged. Only a never-started one would not.
        if thread.is_alive():
            server.shutdown()
            thread.join(timeout=join_seconds)
    finally:
        server.server_close()


def make_moto_server(host: str, port: int) -> BaseWSGIServer:
    """moto server's WSGI app on a threaded werkzeug server, bound now (in the caller's thread)."""
    app = DomainDispatcherApplication(create_backend_app)
    return make_server(host, port, app, threaded=True, request_handler=MotoRequestHandler)


class LocalMotoServer:
    """moto server on ``host:port`` (0: a free port), served from a daemon thread.

    Unlike ``moto.server.ThreadedMotoServer``, binding happens in the constructor, so a busy
    port or a bad address raises ``OSError`` there instead of killing the server thread while
    ``start()`` waits for it forever; and ``stop()`` closes the socket.
    """

    def __init__(self, host: str, port: int) -> None:
        self._httpd = make_moto_server(host, port)
        address = self._httpd.server_address
        self.host, self.port = str(address[0]), int(address[1])
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="local-moto", daemon=True)

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        stop_serving(self._httpd, self._thread)
