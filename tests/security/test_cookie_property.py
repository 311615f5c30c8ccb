"""Threat T1, as a property: over arbitrary cookie lists (the binding's name and value placed,
duplicated, quoted, space- or semicolon-joined, percent-encoded, re-cased, oversized, amid
noise), the parser returns a binding only when the request carries it exactly once, exactly
as issued, and nowhere else; otherwise it refuses or finds none. Never a choice by order."""

from __future__ import annotations

from urllib.parse import quote, unquote

from ads_connect.handlers.cookies import BINDING_COOKIE, binding_cookie
from ads_connect.logic.consent_errors import ConsentFlowError, FailureKind
from ads_connect.logic.ids import looks_like_id, new_id
from hypothesis import given, settings
from hypothesis import strategies as st

ISSUED = [new_id() for _ in range(3)]
ID_ALPHABET = "ABCabc0189-_"

ids = st.one_of(st.sampled_from(ISSUED), st.text(ID_ALPHABET, min_size=40, max_size=46))
names = st.sampled_from(
    [BINDING_COOKIE, BINDING_COOKIE.lower(), BINDING_COOKIE.upper(), "ads_connect_binding", "x", ""]
)
noise = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)


@st.composite
def pieces(draw: st.DrawFn) -> str:
    name, value = draw(names), draw(st.one_of(ids, noise))
    shapes = [
        f"{name}={value}",
        f'{name}="{value}"',
        f"x=1 {name}={value}",
        f"x={quote(f'{name}={value}')}",
        f"{name}={value}{'A' * draw(st.sampled_from([1, 4096]))}",
        f" {name} = {value} ",
        draw(noise),
    ]
    return draw(st.sampled_from(shapes))


@st.composite
def cookie_lists(draw: st.DrawFn) -> list[str]:
    parts = draw(st.lists(pieces(), max_size=6))
    # API Gateway gives one entry per cookie, but an entry may still hold several pairs.
    joined: list[str] = []
    for part in parts:
        if joined and draw(st.booleans()):
            joined[-1] += draw(st.sampled_from(["; ", ";", " "])) + part
        else:
            joined.append(part)
    return joined


def _mentions(text: str) -> bool:
    lowered = text.lower()
    return "ads_connect_binding" in lowered or "ads_connect_binding" in unquote(lowered)


@settings(max_examples=600, deadline=None)
@given(cookie_lists())
def test_a_binding_is_returned_only_when_it_is_there_exactly_once_and_nowhere_else(
    entries: list[str],
) -> None:
    try:
        found = binding_cookie({"cookies": entries})
    except ConsentFlowError as refused:
        assert refused.kind is FailureKind.COOKIE_CONFLICT
        return
    pieces_sent = [p.strip(" \t") for entry in entries for p in entry.split(";")]
    if found is None:
        # No trace of a binding at all
        assert not any(_mentions(p) for p in pieces_sent), entries
        return
    # Exactly one piece is the binding, exactly as issued, and no other piece mentions it
    exact = [p for p in pieces_sent if p.split("=", 1)[0].strip(" \t") == BINDING_COOKIE]
    assert len(exact) == 1, entries
    assert exact[0].split("=", 1)[1].strip(" \t") == found and looks_like_id(found)
    assert not any(_mentions(p) for p in pieces_sent if p is not exact[0]), entries
