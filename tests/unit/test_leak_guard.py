"""The leak guard itself can fail: it finds a planted secret and names only where."""

from tests.fixtures.leak_guard import find_leaks


def test_a_planted_secret_is_found_and_clean_text_passes() -> None:
    secrets = {"Atzr|planted-refresh-token", "ANcplantedcode"}
    leaks = find_leaks(secrets, {"logs": "x Atzr|planted-refresh-token y", "responses": "clean"})
    assert leaks == ["logs"]
    assert find_leaks(secrets, {"logs": "nothing", "responses": "ANcplanted"}) == []
    assert find_leaks({""}, {"logs": "anything"}) == []
