"""Arbitrary input at every public route: never a 5xx, never a reflected payload, never a
changed stored connection."""

from __future__ import annotations

from typing import Any

import boto3
from ads_connect.handlers import callback, consent
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emulator import seller_profile
from tests.fakes.browser import Browser, public_event
from tests.fakes.http_api import FakeLambdaContext
from tests.integration.conftest import Product

MARKER = "<zq'\"&>"
text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=80)
injected = st.one_of(text, text.map(lambda t: f"{MARKER}{t}"))


def _connections(product: Product) -> list[dict[str, Any]]:
    table = boto3.resource("dynamodb", region_name=product.aws.region).Table(product.aws.table_name)
    items = table.scan()["Items"]
    return sorted(
        (i for i in items if str(i["sk"]).startswith(("CONN#", "PROFILE#"))), key=lambda i: (i["pk"], i["sk"])
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    route=st.sampled_from(["landing", "start", "callback", "result"]),
    path_value=injected,
    query=injected,
    cookie=injected,
    body=injected,
    base64_body=st.booleans(),
    use_real_session=st.booleans(),
    headers=st.dictionaries(
        st.sampled_from(["content-type", "x-forwarded-for", "cookie", "referer"]), injected, max_size=3
    ),
)
def test_public_routes_survive_any_input(
    product: Product,
    route: str,
    path_value: str,
    query: str,
    cookie: str,
    body: str,
    base64_body: bool,
    use_real_session: bool,
    headers: dict[str, str],
) -> None:
    if not product.amazon.emu.users:
        product.amazon.emu.add_user("adv", profiles={"NA": [seller_profile(1)]})
        Browser().connect(product.session("existing"), "NA")
    before = _connections(product)
    session_id = product.session("fuzz") if use_real_session else path_value
    cookies = [cookie, f"__Host-ads_connect_binding={cookie}"]
    if route == "landing":
        event = public_event(
            "GET",
            f"/connect/{session_id}",
            query=query,
            cookies=cookies,
            headers=headers,
            route_key="GET /connect/{session_id}",
            path_parameters={"session_id": session_id},
        )
        response = consent.handler(event, FakeLambdaContext())
    elif route == "start":
        event = public_event(
            "POST",
            f"/connect/{session_id}",
            body=body,
            cookies=cookies,
            headers=headers,
            route_key="POST /connect/{session_id}",
            path_parameters={"session_id": session_id},
        )
        event["isBase64Encoded"] = base64_body
        response = consent.handler(event, FakeLambdaContext())
    elif route == "callback":
        event = public_event(
            "GET", "/callback", query=query, cookies=cookies, headers=headers, route_key="GET /callback"
        )
        response = callback.handler(event, FakeLambdaContext())
    else:
        event = public_event(
            "GET",
            f"/result/{path_value}",
            cookies=cookies,
            headers=headers,
            route_key="GET /result/{result_id}",
            path_parameters={"result_id": path_value},
        )
        response = callback.handler(event, FakeLambdaContext())
    status = response["statusCode"]
    assert status < 500, (route, status, response.get("body", "")[:200])
    body_text = response.get("body") or ""
    assert MARKER not in body_text and "Traceback" not in body_text
    assert MARKER not in str(response.get("headers", {}))
    assert _connections(product) == before
