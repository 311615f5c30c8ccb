"""The operator's brand in cdk.json: validated at synth with clear errors, and only where pages
are rendered in the functions' environment (within Lambda's 4 KB)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from ads_connect.models import settings as env
from ads_connect.models.brand import LOGO_MAX_BYTES, SUPPORT_CONTACT_MAX_CHARS
from hypothesis import given, settings
from hypothesis import strategies as st

from stacks.config import AdsConnectConfig, ConfigError
from stacks.functions import LAMBDA_ENVIRONMENT_BYTES, RESOLVED_REFERENCE_BYTES, environment_bytes
from tests.infrastructure.conftest import DEMO_SUPPORT_CONTACT, REPO_ROOT, run_app_as_cdk_synth, synthesize

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 60
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 60
CONTACT = "support@acme.example"
PAGE_FUNCTIONS = ("consent", "callback")


def config(**settings_: Any) -> AdsConnectConfig:
    return AdsConnectConfig.from_context({"support_contact": CONTACT, **settings_})


def error_of(**settings_: Any) -> str:
    with pytest.raises(ConfigError) as caught:
        AdsConnectConfig.from_context(settings_)
    return str(caught.value)


def data_uri(media_type: str, data: bytes) -> str:
    return f"data:{media_type};base64,{base64.b64encode(data).decode()}"


# -- support contact ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "accepted"),
    [
        ("brand_accent_color", "a colour #rrggbb"),
        ("brand_logo", "a data:image/...;base64,... URI"),
        ("support_contact", "an https:// URL or an e-mail address"),
    ],
)
def test_a_brand_value_of_the_wrong_kind_says_what_the_setting_accepts(key: str, accepted: str) -> None:
    # The brand's rules are checked records (models/strict.py) wrapped for pydantic: a number
    # where text belongs reads like every other setting's type error.
    message = error_of(**{"support_contact": CONTACT, key: 5})
    assert message.startswith(f"context key 'ads-connect.{key}': Input should be a valid string")
    assert f"(allowed values: {accepted}" in message


def test_a_missing_support_contact_stops_synth_and_says_what_to_set() -> None:
    for missing in ({}, {"support_contact": None}, {"support_contact": ""}):
        message = error_of(**missing)
        assert message.startswith("context key 'ads-connect.support_contact': required")
        assert "https:// URL or an e-mail address" in message


@pytest.mark.parametrize("contact", ["support@acme.example", "https://help.acme.example/ads?lang=de#form"])
def test_a_url_or_an_address_is_a_support_contact(contact: str) -> None:
    assert config(support_contact=contact).support_contact == contact


@pytest.mark.parametrize(
    "contact",
    [
        "http://help.acme.example",  # not https
        "javascript:alert(1)",
        "support",
        "<b>@acme.example",
        "https://help.acme.example/<script>",
        "mailto:support@acme.example",  # the page adds mailto: itself
        "a@b." + "c" * SUPPORT_CONTACT_MAX_CHARS,
    ],
)
def test_anything_else_is_refused_with_the_key_named(contact: str) -> None:
    message = error_of(support_contact=contact)
    assert "'ads-connect.support_contact'" in message


def test_the_demo_contact_of_a_check_only_synth_must_be_in_the_invalid_domain() -> None:
    demo = AdsConnectConfig.from_context({}, demo_support_contact=DEMO_SUPPORT_CONTACT)
    assert demo.support_contact == DEMO_SUPPORT_CONTACT
    assert AdsConnectConfig.from_context({}, demo_support_contact="help@demo.invalid").support_contact
    # the operator's own contact always wins over the demo one
    assert (
        AdsConnectConfig.from_context({"support_contact": CONTACT}, demo_support_contact=DEMO_SUPPORT_CONTACT)
    ).support_contact == CONTACT
    for real_looking in ("https://support.example.com", "help@acme.example", "https://x.invalid.example.com"):
        with pytest.raises(ConfigError, match=r"'ads-connect:demo-support-contact'.*\.invalid"):
            AdsConnectConfig.from_context({}, demo_support_contact=real_looking)


def test_the_committed_cdk_json_leaves_the_support_contact_to_the_operator() -> None:
    committed = json.loads((REPO_ROOT / "cdk.json").read_text())["context"]["ads-connect"]
    assert committed.get("support_contact") is None
    with pytest.raises(ConfigError, match="support_contact"):
        AdsConnectConfig.from_context(committed)


def test_cdk_synth_without_a_support_contact_prints_one_line_and_exits_1(tmp_path: Path) -> None:
    context = json.loads((REPO_ROOT / "cdk.json").read_text())["context"]
    returncode, lines = run_app_as_cdk_synth(context, tmp_path)
    assert returncode == 1, lines
    assert len(lines) == 1 and lines[0].startswith(
        "error: context key 'ads-connect.support_contact': required"
    )


# -- accent colour --------------------------------------------------------------------------------


def test_the_accent_colour_defaults_and_is_normalised() -> None:
    assert config().brand_accent_color == "#146eb4" == config(brand_accent_color=None).brand_accent_color
    assert config(brand_accent_color="#0B6E4F").brand_accent_color == "#0b6e4f"


@pytest.mark.parametrize("colour", ["blue", "#12345", "#1234567", "rgb(0,0,0)", "#gggggg"])
def test_an_accent_that_is_not_rrggbb_is_refused(colour: str) -> None:
    message = error_of(support_contact=CONTACT, brand_accent_color=colour)
    assert "'ads-connect.brand_accent_color'" in message and "#rrggbb" in message


@pytest.mark.parametrize("colour", ["#ff9900", "#ffffff", "#2f9e44", "#808080"])
def test_an_accent_too_light_for_white_text_is_refused_with_its_contrast(colour: str) -> None:
    message = error_of(support_contact=CONTACT, brand_accent_color=colour)
    assert "contrast ratio of" in message and "at least 4.5:1" in message


# -- logo -----------------------------------------------------------------------------------------


def test_a_logo_data_uri_is_checked_against_its_bytes() -> None:
    assert config(brand_logo=data_uri("image/png", PNG)).brand_logo == data_uri("image/png", PNG)
    assert "its bytes are image/jpeg" in error_of(
        support_contact=CONTACT, brand_logo=data_uri("image/png", JPEG)
    )
    assert "image/png, image/jpeg" in error_of(
        support_contact=CONTACT, brand_logo=data_uri("image/png", b"<svg/>")
    )
    assert "data:image/<type>;base64" in error_of(
        support_contact=CONTACT, brand_logo="data:text/html,<b>x</b>"
    )


def test_a_logo_file_is_embedded_as_a_data_uri(tmp_path: Path) -> None:
    logo = tmp_path / "logo.JPG"
    logo.write_bytes(JPEG)
    assert config(brand_logo=str(logo)).brand_logo == data_uri("image/jpeg", JPEG)
    demo = REPO_ROOT / "local" / "demo-logo.png"
    assert config(brand_logo=str(demo)).brand_logo == data_uri("image/png", demo.read_bytes())


def test_a_logo_too_large_stops_synth_with_its_size(tmp_path: Path) -> None:
    big = tmp_path / "logo.png"
    big.write_bytes(PNG + b"\x00" * LOGO_MAX_BYTES)
    message = error_of(support_contact=CONTACT, brand_logo=str(big))
    assert "'ads-connect.brand_logo'" in message and f"at most {LOGO_MAX_BYTES} bytes" in message
    too_big = data_uri("image/png", PNG + b"\x00" * LOGO_MAX_BYTES)
    assert f"at most {LOGO_MAX_BYTES} bytes" in error_of(support_contact=CONTACT, brand_logo=too_big)


def test_a_logo_of_the_wrong_type_stops_synth(tmp_path: Path) -> None:
    svg = tmp_path / "logo.svg"
    svg.write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    assert ".png, .jpg, .jpeg, .gif, .webp" in error_of(support_contact=CONTACT, brand_logo=str(svg))
    fake = tmp_path / "logo.png"
    fake.write_bytes(b"GIF89a" + b"\x00" * 20)  # a GIF named .png
    assert "its bytes are image/gif" in error_of(support_contact=CONTACT, brand_logo=str(fake))
    assert "cannot read the logo file" in error_of(
        support_contact=CONTACT, brand_logo=str(tmp_path / "no.png")
    )


@settings(max_examples=150, deadline=None)
@given(
    accent=st.one_of(st.none(), st.text(max_size=12), st.from_regex(r"#[0-9a-f]{6}", fullmatch=True)),
    logo=st.one_of(
        st.none(), st.text(max_size=40), st.builds(lambda b: data_uri("image/png", b), st.binary())
    ),
    contact=st.one_of(st.none(), st.text(max_size=60), st.emails()),
)
def test_any_brand_value_is_accepted_or_refused_with_a_config_error(
    accent: str | None, logo: str | None, contact: str | None
) -> None:
    try:
        AdsConnectConfig.from_context(
            {"brand_accent_color": accent, "brand_logo": logo, "support_contact": contact}
        )
    except ConfigError as error:
        assert str(error).startswith("context key 'ads-connect.")


# -- the template ---------------------------------------------------------------------------------


def _environment(synthesized: Any, kind: str) -> dict[str, Any]:
    fn = synthesized.stack.ads_connect.functions[kind]
    props = synthesized.resources[synthesized.logical_id(fn)]["Properties"]
    return dict(props["Environment"]["Variables"])


def test_only_the_page_functions_carry_the_brand_and_all_stay_within_4_kb(tmp_path: Path) -> None:
    # Given the largest brand the settings allow
    logo = data_uri("image/png", PNG + b"\x00" * (LOGO_MAX_BYTES - len(PNG)))
    contact = "https://help.acme.example/" + "a" * (SUPPORT_CONTACT_MAX_CHARS - 26)
    synthesized = synthesize(
        tmp_path,
        {
            "ads-connect": {
                "app_name": "N" * 80,
                "brand_accent_color": "#0b6e4f",
                "brand_logo": logo,
                "support_contact": contact,
                "allowed_return_urls": ["https://app.acme.example/amazon/connected"],
            }
        },
        nag=False,
    )
    sizes: dict[str, int] = {}
    for kind in synthesized.stack.ads_connect.functions:
        variables = _environment(synthesized, kind)
        has_brand = kind in PAGE_FUNCTIONS
        assert (env.ENV_BRAND_LOGO in variables) is has_brand, kind
        assert (env.ENV_SUPPORT_CONTACT in variables) is has_brand, kind
        if has_brand:
            assert variables[env.ENV_BRAND_LOGO] == logo and variables[env.ENV_SUPPORT_CONTACT] == contact
            assert variables[env.ENV_BRAND_ACCENT_COLOR] == "#0b6e4f"
        size = environment_bytes(variables)
        assert size <= LAMBDA_ENVIRONMENT_BYTES, f"{kind}: {size} bytes of environment"
        sizes[kind] = size
    print(f"environment bytes with the largest brand: {sizes}")


def test_the_size_estimate_counts_names_values_and_references() -> None:
    reference = {"Fn::GetAtt": ["Role", "Arn"]}
    assert environment_bytes({"A": "xyz", "B": {"Ref": "T"}}) == 1 + 3 + 1 + RESOLVED_REFERENCE_BYTES
    joined = {"Fn::Join": [",", ["[", reference, reference, "]"]]}
    assert environment_bytes({"C": joined}) == 1 + 2 + 2 * RESOLVED_REFERENCE_BYTES + 3


def test_an_environment_over_4_kb_stops_synth_naming_the_logo(tmp_path: Path) -> None:
    # A logo of the largest size plus many long return URLs (each allowed on its own)
    urls = [f"https://app{i}.acme.example/" + "p" * 150 for i in range(4)]
    logo = data_uri("image/png", PNG + b"\x00" * (LOGO_MAX_BYTES - len(PNG)))
    with pytest.raises(ConfigError, match=r"'ads-connect\.brand_logo'.*over Lambda's 4096"):
        synthesize(
            tmp_path,
            {"ads-connect": {"brand_logo": logo, "support_contact": CONTACT, "allowed_return_urls": urls}},
            nag=False,
        )
