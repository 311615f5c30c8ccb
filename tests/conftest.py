"""Shared fixtures. Each fixture family lives in its own module under tests/fixtures/."""

pytest_plugins = [
    "tests.fixtures.aws",
    "tests.fixtures.amazon",
    "tests.fixtures.leak_guard",
]
