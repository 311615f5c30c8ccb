"""A recording HTTP session and fake AWS credentials for the CLI tests (no network, no ~/.aws)."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests

from cli.client import AdminClient, AwsContext
from cli.main import Io, main

API_URL = "https://abc123.execute-api.eu-west-1.amazonaws.com"
ACCESS_KEY = "AKIAFAKEFAKEFAKEFAKE"
SECRET_KEY = "fake-aws-secret-key-for-cli-tests"
SESSION_TOKEN = "fake-session-token"


def response(status: int, body: Any = None, *, raw: bytes | None = None) -> requests.Response:
    r = requests.Response()
    r.status_code = status
    r._content = raw if raw is not None else (json.dumps(body).encode() if body is not None else b"")
    r.headers["Content-Type"] = "application/json"
    return r


@dataclass
class Sent:
    method: str
    url: str
    body: bytes | None
    headers: dict[str, str]
    timeout: Any


@dataclass
class FakeHttp:
    answers: list[requests.Response | Exception] = field(default_factory=list)
    sent: list[Sent] = field(default_factory=list)

    def request(
        self, method: str, url: str, *, data: Any, headers: dict[str, str], timeout: Any, **_: Any
    ) -> Any:
        self.sent.append(Sent(method, url, data, headers, timeout))
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def json_body(self, index: int = -1) -> Any:
        body = self.sent[index].body
        return json.loads(body) if body else None


class FakeStdin(io.StringIO):
    def __init__(self, text: str = "", *, tty: bool = False) -> None:
        super().__init__(text)
        self._tty = tty

    def isatty(self) -> bool:
        return self._tty


@dataclass
class Run:
    code: int
    out: str
    err: str


@dataclass
class Cli:
    http: FakeHttp
    prompts: list[str] = field(default_factory=list)

    def run(self, *argv: str, stdin: str = "", tty: bool = False, typed: str = "") -> Run:
        out, err = io.StringIO(), io.StringIO()

        def fake_getpass(prompt: str) -> str:
            self.prompts.append(prompt)
            return typed

        streams = Io(
            stdin=FakeStdin(stdin, tty=tty), stdout=out, stderr=err, getpass=fake_getpass, environ={}
        )
        factory: Callable[..., AdminClient] = lambda args, _io: AdminClient(  # noqa: E731
            API_URL,
            AwsContext(profile=args.profile, region=args.region),
            timeout=args.timeout,
            http=self.http,  # type: ignore[arg-type]
        )
        code = main(list(argv), io=streams, client_factory=factory)
        return Run(code, out.getvalue(), err.getvalue())


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    monkeypatch.setenv("AWS_SESSION_TOKEN", SESSION_TOKEN)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture
def cli(aws_env: None) -> Cli:
    return Cli(FakeHttp())
