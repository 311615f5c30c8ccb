"""``logic.pacing.WritePacer`` on a fake clock (nothing here waits in real time), and the
refresh flow pacing every Secrets Manager write through it."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import pytest
from ads_connect.handlers import refresh_worker
from ads_connect.logic.pacing import WritePacer
from ads_connect.models.records import RefreshOutcome
from ads_connect.models.settings import ENV_SECRET_WRITES_PER_SECOND

from tests.fakes.amazon import fake_grant
from tests.fixtures.aws import TEST_REGION
from tests.unit.refresh.conftest import RefreshWorld


@dataclass
class FakeTime:
    """A monotonic clock that only moves when the code under test sleeps (or the test says so)."""

    now: float = 1000.0
    sleeps: list[float] = field(default_factory=list)

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def _pacer(per_second: float, time: FakeTime) -> WritePacer:
    return WritePacer(per_second, monotonic=time.monotonic, sleep=time.sleep)


def test_back_to_back_writes_are_spaced_one_interval_apart() -> None:
    time = FakeTime()
    pacer = _pacer(4.0, time)
    waited = [pacer.wait() for _ in range(5)]
    # The first goes at once; each later one waits for its slot: never more than 4 in a second
    assert waited == [0.0, 0.25, 0.25, 0.25, 0.25]
    assert time.sleeps == [0.25] * 4


def test_time_spent_elsewhere_counts_towards_the_interval_and_idle_time_is_no_credit() -> None:
    time = FakeTime()
    pacer = _pacer(2.0, time)
    pacer.wait()
    time.now += 0.2  # the write itself, and the next token call, took 0.2 s
    assert pacer.wait() == pytest.approx(0.3)
    time.now += 10.0  # idle for a long while
    # No burst after idling: one write at once, the next a full interval later
    assert pacer.wait() == 0.0
    assert pacer.wait() == pytest.approx(0.5)


def test_concurrent_callers_get_distinct_slots() -> None:
    time = FakeTime()
    lock = threading.Lock()

    def sleep(seconds: float) -> None:
        with lock:
            time.sleeps.append(seconds)

    # The clock stands still: every caller must still get its own slot, one interval apart.
    pacer = WritePacer(10.0, monotonic=time.monotonic, sleep=sleep)
    waits: list[float] = []
    threads = [threading.Thread(target=lambda: waits.append(pacer.wait())) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(round(w, 6) for w in waits) == [round(0.1 * i, 6) for i in range(8)]


def test_a_pace_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        WritePacer(0)


def test_every_secret_write_of_a_refresh_waits_for_its_slot_first(world: RefreshWorld) -> None:
    # Given a worker paced at 2 writes/s and a refresh where Amazon rotates the token
    time = FakeTime()
    order: list[str] = []
    pacer = _pacer(2.0, time)
    real_wait = pacer.wait
    pacer.wait = lambda: (order.append("wait"), real_wait())[1]  # type: ignore[method-assign]
    write, publish = world.vault.write_refresh_token, world.vault.publish_access_token
    world.vault.write_refresh_token = lambda *a, **k: (order.append("refresh"), write(*a, **k))[1]  # type: ignore[method-assign]
    world.vault.publish_access_token = lambda *a, **k: (order.append("access"), publish(*a, **k))[1]  # type: ignore[method-assign]
    world.connect()
    world.lwa.default = fake_grant(refresh_token="Atzr|fake-rotated")
    # When it refreshes
    attempt = world.refresh(secret_write_pacer=pacer)
    # Then each of the two writes waited for the pacer, and the second one a whole interval
    assert attempt.outcome is RefreshOutcome.SUCCEEDED
    assert order == ["wait", "refresh", "wait", "access"]
    assert time.sleeps == [0.5]


def test_the_worker_paces_at_the_share_its_environment_gives(monkeypatch: pytest.MonkeyPatch) -> None:
    environment = {
        "ADS_CONNECT_TABLE_NAME": "ads-connect-test",
        "ADS_CONNECT_SECRET_PREFIX": "ads-connect",
        "ADS_CONNECT_LWA_SECRET_ID": "ads-connect/lwa-client",
        "ADS_CONNECT_EVENT_BUS_NAME": "ads-connect-test",
        "AWS_DEFAULT_REGION": TEST_REGION,
        # Fake credentials: building the clients must not go looking for real ones.
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        ENV_SECRET_WRITES_PER_SECOND: "8",
    }
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    refresh_worker.reset()
    try:
        pacer = refresh_worker._dependencies()["secret_write_pacer"]
        assert isinstance(pacer, WritePacer) and pacer.interval == 1 / 8
        # Kept for the execution environment's life: its pace spans invocations
        assert refresh_worker._dependencies()["secret_write_pacer"] is pacer
    finally:
        refresh_worker.reset()
