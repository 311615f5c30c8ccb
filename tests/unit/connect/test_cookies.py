"""The strict binding-cookie parser (handlers/cookies.py): one binding value, exactly as issued,
or a refusal; never the first or last of several."""

from __future__ import annotations

import pytest
from ads_connect.handlers import cookies
from ads_connect.logic.consent_errors import ConsentFlowError, FailureKind
from ads_connect.logic.ids import new_id

NAME = cookies.BINDING_COOKIE
GOOD = new_id()
OTHER = new_id()


def test_the_binding_is_found_among_other_cookies_and_junk_without_the_name_is_ignored() -> None:
    # Given the binding among unrelated cookies, in one entry or several (API Gateway splits on ';')
    for entries in (
        ["a=b", "\x00junk;;=", f"{NAME}={GOOD}"],
        [f"a=b; {NAME}={GOOD}; c=d"],
        [f"\t{NAME}={GOOD} "],
    ):
        # Then exactly that value is read
        assert cookies.binding_cookie({"cookies": entries}) == GOOD, entries
    assert cookies.binding_cookie({"cookies": "not-a-list"}) is None
    assert cookies.binding_cookie({"cookies": [1, None]}) is None
    assert cookies.binding_cookie({"cookies": ["a=b; c"]}) is None
    assert cookies.binding_cookie({}) is None


@pytest.mark.parametrize(
    "entries",
    [
        pytest.param([f"{NAME}={GOOD}", f"{NAME}={OTHER}"], id="two entries"),
        pytest.param([f"{NAME}={GOOD}; {NAME}={OTHER}"], id="two in one entry"),
        pytest.param([f"{NAME}={GOOD}", f"{NAME}={GOOD}"], id="the same value twice"),
        pytest.param([f"x=1 {NAME}={OTHER}"], id="space-joined inside another value"),
        pytest.param([f"x=1 {NAME}={OTHER}", f"{NAME}={GOOD}"], id="smuggled beside the real one"),
        pytest.param([f'x="a;{NAME}={OTHER}"'], id="quoted pair"),
        pytest.param([f'{NAME}="{GOOD}"'], id="quoted value"),
        pytest.param([f"x=1%20{NAME}%3D{OTHER}"], id="percent-encoded inside a value"),
        pytest.param([f"x=%5F%5FHost-ads_connect_binding%3D{OTHER}"], id="percent-encoded name"),
        pytest.param([f"__host-ads_connect_binding={OTHER}"], id="other case"),
        pytest.param([f"={NAME}={OTHER}"], id="nameless cookie"),
        pytest.param([NAME], id="name only"),
        pytest.param([f"{NAME}={GOOD}x"], id="too long"),
        pytest.param([f"{NAME}={'A' * 5000}"], id="oversized"),
        pytest.param([f"{NAME}="], id="empty"),
        pytest.param([f"{NAME}={GOOD[:-1]}!"], id="outside the alphabet"),
    ],
)
def test_every_non_exact_binding_is_refused_not_resolved(entries: list[str]) -> None:
    # When the request carries two bindings, a malformed one, or one hidden in another cookie
    with pytest.raises(ConsentFlowError) as refused:
        cookies.binding_cookie({"cookies": entries})
    # Then it is refused with the "start again" page, whatever their order
    assert refused.value.kind is FailureKind.COOKIE_CONFLICT


def test_the_binding_cookie_is_host_only_secure_http_only_and_lax() -> None:
    header = cookies.binding_set_cookie("v")
    assert header.startswith("__Host-ads_connect_binding=v;")
    for flag in ("Path=/", "Secure", "HttpOnly", "SameSite=Lax"):
        assert flag in header
    assert "Domain" not in header
