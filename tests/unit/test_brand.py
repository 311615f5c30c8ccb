"""The brand's rules on their own (models/brand.py): contrast, logo signatures, contacts."""

from __future__ import annotations

import base64

import pytest
from ads_connect.models.brand import (
    LOGO_MAX_BYTES,
    Brand,
    check_logo_data_uri,
    contrast_ratio,
    logo_data_uri,
    logo_media_type,
)
from ads_connect.models.strict import RecordError


def test_contrast_ratio_follows_wcag() -> None:
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast_ratio("#ffffff", "#ffffff") == pytest.approx(1.0)
    # #767676 is the lightest grey that passes 4.5:1 on white; #777777 just fails
    assert contrast_ratio("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)
    assert contrast_ratio("#777777", "#ffffff") < 4.5 < contrast_ratio("#767676", "#ffffff")
    assert contrast_ratio("#146eb4", "#ffffff") == contrast_ratio("#ffffff", "#146eb4")


def test_the_accent_boundary_is_4_5() -> None:
    assert Brand(display_name="A", accent_color="#767676").accent_color == "#767676"
    with pytest.raises(RecordError, match=r"contrast ratio of 4\.48:1"):
        Brand(display_name="A", accent_color="#777777")


@pytest.mark.parametrize(
    ("data", "media_type"),
    [
        (b"\x89PNG\r\n\x1a\n....", "image/png"),
        (b"\xff\xd8\xff\xdb....", "image/jpeg"),
        (b"GIF87a....", "image/gif"),
        (b"GIF89a....", "image/gif"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"RIFF\x00\x00\x00\x00WAVEfmt ", None),  # a RIFF that is not WebP
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", None),
        (b"<html><script>", None),
    ],
)
def test_a_logo_is_known_by_its_own_first_bytes(data: bytes, media_type: str | None) -> None:
    assert logo_media_type(data) == media_type


def test_a_logo_data_uri_is_rebuilt_from_its_checked_bytes() -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"\x01" * 10
    uri = logo_data_uri(png)
    assert uri == "data:image/png;base64," + base64.b64encode(png).decode() == check_logo_data_uri(uri)
    with pytest.raises(ValueError, match="base64 is not valid"):
        check_logo_data_uri("data:image/png;base64,AAAAA")
    with pytest.raises(ValueError, match="empty"):
        logo_data_uri(b"")
    with pytest.raises(ValueError, match=f"at most {LOGO_MAX_BYTES} bytes"):
        logo_data_uri(png + b"\x00" * LOGO_MAX_BYTES)


def test_an_empty_contact_or_logo_is_unset() -> None:
    brand = Brand(display_name="A", support_contact="", logo="")
    assert brand.support_contact is None and brand.logo is None and brand.support_href is None
    assert (
        Brand(display_name="A", support_contact="help@acme.example").support_href
        == "mailto:help@acme.example"
    )
