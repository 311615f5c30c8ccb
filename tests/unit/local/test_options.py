"""``python -m local`` options: local mode listens on loopback only."""

from __future__ import annotations

import pytest

from local.__main__ import loopback_host, parse_options

ALL_INTERFACES = "0.0.0.0"  # noqa: S104 - the address under test, refused


@pytest.mark.parametrize(
    ("given", "bound"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("127.3.2.1", "127.3.2.1"),
        ("localhost", "127.0.0.1"),
        ("LocalHost", "127.0.0.1"),
    ],
)
def test_loopback_addresses_are_accepted(given: str, bound: str) -> None:
    options, _ = parse_options(["--host", given], {})
    assert options.host == bound


@pytest.mark.parametrize("host", [ALL_INTERFACES, "192.168.1.20", "10.0.0.5", "8.8.8.8", "", "example.com"])
def test_an_address_other_machines_reach_is_refused_with_the_reason(
    host: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        parse_options(["--host", host], {})
    assert exited.value.code == 2
    error = capsys.readouterr().err
    assert "loopback" in error and "fixed admin credentials" in error


def test_the_environment_variable_is_checked_as_the_flag_is(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parse_options([], {"ADS_CONNECT_LOCAL_HOST": ALL_INTERFACES})
    assert "not a loopback address" in capsys.readouterr().err
    assert parse_options([], {"ADS_CONNECT_LOCAL_HOST": "127.0.0.9"})[0].host == "127.0.0.9"


def test_ipv6_loopback_is_refused_because_the_servers_are_ipv4() -> None:
    with pytest.raises(ValueError, match="IPv4 only"):
        loopback_host("::1")


def test_the_default_is_loopback() -> None:
    assert parse_options([], {})[0].host == "127.0.0.1"
