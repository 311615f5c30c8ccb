"""Unit tests touch no network at all: sockets are disabled for the whole folder."""

import pytest
from pytest_socket import disable_socket


@pytest.fixture(autouse=True)
def _no_network() -> None:
    disable_socket(allow_unix_socket=True)


@pytest.fixture
def static_aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Made-up static credentials and a region: botocore never looks for any on the network."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
