"""A requests transport that answers from a script instead of the network (unit tests)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import requests
from requests.adapters import BaseAdapter

Responder = Callable[[requests.PreparedRequest], requests.Response | Exception]


def response(
    status: int, body: str | bytes = b"", headers: dict[str, str] | None = None
) -> requests.Response:
    result = requests.Response()
    result.status_code = status
    result._content = body.encode() if isinstance(body, str) else body
    result.headers.update(headers or {})
    result.encoding = "utf-8"
    return result


class ScriptedTransport(BaseAdapter):
    def __init__(self, responder: Responder) -> None:
        super().__init__()
        self.responder = responder
        self.requests: list[requests.PreparedRequest] = []
        self.timeouts: list[Any] = []

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        self.requests.append(request)
        self.timeouts.append(kwargs.get("timeout"))
        outcome = self.responder(request)
        if isinstance(outcome, Exception):
            raise outcome
        outcome.request = request
        outcome.url = request.url or ""
        return outcome

    def close(self) -> None:
        return None


def scripted_session(responder: Responder) -> tuple[requests.Session, ScriptedTransport]:
    session = requests.Session()
    transport = ScriptedTransport(responder)
    session.mount("https://", transport)
    session.mount("http://", transport)
    return session, transport
