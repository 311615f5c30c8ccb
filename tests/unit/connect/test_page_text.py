"""All page text in one table: every language has every message with the same placeholders,
and Accept-Language picks the language (quality values honoured, English otherwise)."""

from __future__ import annotations

from collections.abc import Mapping
from string import Template

import pytest
from ads_connect.logic.consent_errors import FailureKind
from ads_connect.pages.text import (
    DEFAULT_LANGUAGE,
    MAX_ACCEPT_LANGUAGE_CHARS,
    REGION_NAMES,
    TEXT,
    Language,
    negotiate_language,
)
from ads_connect.regions import REGIONS, Region


def _placeholders(text: str) -> set[str]:
    return {m.group("named") or m.group("braced") for m in Template.pattern.finditer(text)} - {None}


def _problems(translations: Mapping[Language, str]) -> list[str]:
    """What is wrong with one message's translations: a language missing or empty, or
    placeholders that differ from the English text's (a $ that is not a placeholder raises)."""
    missing = [
        f"{language.value} missing" for language in Language if not translations.get(language, "").strip()
    ]
    if missing:
        return missing
    english = _placeholders(translations[Language.EN])
    problems = []
    for language in Language:
        if _placeholders(translations[language]) != english:
            problems.append(f"{language.value} placeholders differ")
        Template(translations[language]).substitute({name: "x" for name in english})
    return problems


@pytest.mark.parametrize("key", sorted(TEXT))
def test_every_message_exists_in_every_language_with_the_same_placeholders(key: str) -> None:
    assert _problems(TEXT[key]) == [], key


def test_the_check_catches_a_missing_language_and_a_lost_placeholder() -> None:
    without_japanese = {k: v for k, v in TEXT["landing.heading"].items() if k is not Language.JA}
    assert _problems(without_japanese) == ["ja missing"]
    lost = {**TEXT["landing.intro"], Language.IT: "$app chiede l'accesso."}
    assert _problems(lost) == ["it placeholders differ"]


def test_every_region_has_a_name_in_every_language_and_the_english_one_is_the_tables() -> None:
    for region in Region:
        assert set(REGION_NAMES[region]) == set(Language), region
        assert REGION_NAMES[region][Language.EN] == REGIONS[region].name


def test_every_failure_kind_has_a_heading_and_a_message() -> None:
    for kind in FailureKind:
        assert f"failure.{kind.value}.heading" in TEXT and f"failure.{kind.value}.message" in TEXT


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, Language.EN),
        ("", Language.EN),
        ("de-DE,de;q=0.9,en-US;q=0.8,en;q=0.7", Language.DE),  # Chrome in Germany
        ("ja", Language.JA),
        ("fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7, *;q=0.5", Language.FR),
        ("en;q=0.5, it;q=0.8", Language.IT),  # quality, not order
        ("es;q=0.8, de;q=0.8", Language.ES),  # equal quality: the first listed
        ("pt-BR, pt;q=0.9", Language.EN),  # nothing offered: English
        ("*", Language.EN),
        ("nl, es;q=0.1", Language.ES),
        ("de;q=0, es;q=0.2", Language.ES),  # q=0: not acceptable
        ("de, de-AT;q=0", Language.EN),  # German refused in one form is not served
        ("DE-de", Language.DE),  # case-insensitive
        ("de;q=2, fr", Language.FR),  # malformed quality: that entry is skipped
        ("de;q=0.5;level=1, it;q=0.4", Language.IT),  # extra parameters: skipped
        ("<script>, ja;q=0.3", Language.JA),
        (",,,;;;q=,", Language.EN),
        ("fr;q=1.000, ja;q=0.999", Language.FR),
    ],
)
def test_accept_language_picks_the_preferred_supported_language(
    header: str | None, expected: Language
) -> None:
    assert negotiate_language(header) is expected


def test_an_oversized_header_is_read_only_so_far() -> None:
    padding = "xx;q=0.1," * (MAX_ACCEPT_LANGUAGE_CHARS // 9 + 1)
    assert negotiate_language(padding + "ja") is DEFAULT_LANGUAGE
    assert negotiate_language("ja," + padding) is Language.JA
