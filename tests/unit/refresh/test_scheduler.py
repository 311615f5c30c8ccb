"""Flow 5, first half: ``logic.scheduler.run_schedule`` on in-memory ports."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import timedelta

import pytest
from ads_connect.logic.ports import CLIENT_CREDENTIALS_PAUSE, PROBE_TRIGGER, OperatorPause
from ads_connect.logic.scheduler import ScheduleSummary, run_schedule
from ads_connect.models.records import ConnectionStatus
from ads_connect.models.settings import RefreshSettings
from ads_connect.models.work import WorkKind, WorkMessage
from ads_connect.regions import Region

from tests.unit.refresh.conftest import RefreshWorld


class ListQueue:
    def __init__(self, fail_after: int | None = None) -> None:
        self.batches: list[list[WorkMessage]] = []
        self.fail_after = fail_after
        self._lock = threading.Lock()

    def send(self, messages: Sequence[WorkMessage]) -> None:
        with self._lock:
            if self.fail_after is not None and len(self.batches) >= self.fail_after:
                raise RuntimeError("sqs unavailable")
            self.batches.append(list(messages))

    @property
    def messages(self) -> list[WorkMessage]:
        return [m for batch in self.batches for m in batch]


def _run(world: RefreshWorld, queue: ListQueue, *, cap: int | None = None) -> ScheduleSummary:
    settings = RefreshSettings(**world.settings.values(), max_refreshes_per_run=cap)
    return run_schedule(store=world.store, queue=queue, clock=world.clock, settings=settings)


def test_only_due_active_connections_are_enqueued_with_profile_resyncs(world: RefreshWorld) -> None:
    # Given due, not-yet-due, revoked connections and one whose profiles need a re-check
    world.connect("due-now", due_in=timedelta(0))
    world.connect("overdue", Region.EU, due_in=timedelta(minutes=-20))
    world.connect("later", due_in=timedelta(minutes=1))
    world.connect("revoked", due_in=timedelta(minutes=-5), status=ConnectionStatus.REAUTHORIZATION_REQUIRED)
    world.connect("empty", Region.FE, due_in=timedelta(minutes=30), profile_sync_due_at=world.clock.now())
    queue = ListQueue()
    # When the schedule runs
    summary = _run(world, queue)
    # Then exactly the due set is enqueued as refreshes, plus one profile re-sync
    refreshes = {(m.tenant_id, m.region) for m in queue.messages if m.kind is WorkKind.REFRESH}
    syncs = [(m.tenant_id, m.region) for m in queue.messages if m.kind is WorkKind.PROFILE_SYNC]
    assert refreshes == {("due-now", Region.NA), ("overdue", Region.EU)}
    assert syncs == [("empty", Region.FE)]
    assert summary.refreshes_enqueued == 2 and summary.profile_syncs_enqueued == 1
    assert all(m.trigger == "schedule" for m in queue.messages)
    # And the oldest token age reflects the most overdue connection (issued 60 min before expiry)
    assert summary.oldest_token_age_seconds == pytest.approx((60 - 15 + 20) * 60)


def test_a_large_due_set_goes_out_in_batches_of_ten_each_key_once(world: RefreshWorld) -> None:
    for i in range(2345):
        world.connect(f"t{i:05d}", due_in=timedelta(seconds=-i))
    queue = ListQueue()
    summary = _run(world, queue)
    assert summary.refreshes_enqueued == 2345
    assert all(1 <= len(batch) <= 10 for batch in queue.batches)
    keys = [m.tenant_id for m in queue.messages]
    assert len(keys) == len(set(keys)) == 2345


def test_while_client_credentials_are_invalid_one_probe_is_sent(world: RefreshWorld) -> None:
    for i in range(25):
        world.connect(f"t{i}", due_in=timedelta(minutes=-1), profile_sync_due_at=world.clock.now())
    world.store.set_operator_pause(
        OperatorPause(CLIENT_CREDENTIALS_PAUSE, world.clock.now(), "invalid_client")
    )
    queue = ListQueue()
    summary = _run(world, queue)
    assert summary.paused and summary.refreshes_enqueued == 1 and summary.profile_syncs_enqueued == 0
    assert [m.kind for m in queue.messages] == [WorkKind.REFRESH]
    # Marked as the probe: the worker lets it through and skips refreshes queued before the pause
    assert queue.messages[0].trigger == PROBE_TRIGGER


def test_once_the_pause_is_lifted_the_due_set_goes_out_unmarked(world: RefreshWorld) -> None:
    for i in range(3):
        world.connect(f"t{i}", due_in=timedelta(minutes=-1))
    world.store.set_operator_pause(
        OperatorPause(CLIENT_CREDENTIALS_PAUSE, world.clock.now(), "invalid_client")
    )
    _run(world, ListQueue())
    world.store.clear_operator_pause(CLIENT_CREDENTIALS_PAUSE)
    queue = ListQueue()
    summary = _run(world, queue)
    assert not summary.paused and summary.refreshes_enqueued == 3
    assert {m.trigger for m in queue.messages} == {"schedule"}


def test_nothing_due_sends_nothing(world: RefreshWorld) -> None:
    world.connect(due_in=timedelta(minutes=10))
    queue = ListQueue()
    summary = _run(world, queue)
    assert queue.batches == [] and summary.refreshes_enqueued == 0
    assert summary.oldest_token_age_seconds == pytest.approx((60 - 15 - 10) * 60)


def test_an_enqueue_failure_fails_the_run_so_the_schedule_retries(world: RefreshWorld) -> None:
    for i in range(50):
        world.connect(f"t{i}", due_in=timedelta(minutes=-1))
    with pytest.raises(RuntimeError):
        _run(world, ListQueue(fail_after=2))


def test_one_run_enqueues_at_most_its_cap_oldest_due_first_and_reports_the_rest(world: RefreshWorld) -> None:
    # Given a backlog of 250 due connections, due one minute apart, and a cap of 100 per run
    for i in range(250):
        world.connect(f"t{i:03d}", due_in=timedelta(minutes=-i))
    queue = ListQueue()
    # When the schedule runs
    summary = _run(world, queue, cap=100)
    # Then it sends the 100 most overdue, once each, and counts the 150 it left for later runs
    sent = [m.tenant_id for m in queue.messages]
    assert sorted(sent) == [f"t{i:03d}" for i in range(150, 250)]
    assert len(set(sent)) == 100
    assert summary.refreshes_enqueued == 100 and summary.refreshes_backlog == 150
    assert summary.oldest_token_age_seconds == pytest.approx((60 - 15 + 249) * 60)


def test_runs_over_a_backlog_never_send_more_than_the_cap_each(world: RefreshWorld) -> None:
    # Given more due than one run may send, and workers that drain nothing in between
    for i in range(30):
        world.connect(f"t{i:02d}", due_in=timedelta(minutes=-1 - i))
    sent_per_run = []
    for _ in range(4):
        queue = ListQueue()
        _run(world, queue, cap=12)
        world.clock.advance(minutes=5)
        sent_per_run.append(len(queue.messages))
    # Then the duplicates stay bounded by the cap (without it: 4 x 30 messages)
    assert sent_per_run == [12, 12, 12, 12]


def test_without_a_cap_the_whole_due_set_is_sent_and_nothing_is_left(world: RefreshWorld) -> None:
    for i in range(25):
        world.connect(f"t{i}", due_in=timedelta(minutes=-1))
    summary = _run(world, ListQueue())
    assert summary.refreshes_enqueued == 25 and summary.refreshes_backlog == 0


def test_while_paused_the_waiting_due_set_is_reported_as_backlog(world: RefreshWorld) -> None:
    for i in range(7):
        world.connect(f"t{i}", due_in=timedelta(minutes=-1))
    world.store.set_operator_pause(
        OperatorPause(CLIENT_CREDENTIALS_PAUSE, world.clock.now(), "invalid_client")
    )
    summary = _run(world, ListQueue(), cap=100)
    assert summary.refreshes_enqueued == 1 and summary.refreshes_backlog == 6
