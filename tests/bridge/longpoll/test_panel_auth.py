"""PIN lockout: counted per extension, within a sliding window, time injected."""

from __future__ import annotations

from bridge.clock import FakeClock
from bridge.longpoll.panel_auth import IN_FLIGHT_RETRY_SECONDS, PinGuard


def wrong(guard: PinGuard, extension: str) -> bool:
    assert guard.admit(extension) is None
    guard.done(extension)
    return guard.failed(extension)


def test_lockout_after_max_failures_until_the_oldest_leaves_the_window(
    clock: FakeClock,
):
    guard = PinGuard(clock, max_failures=3, window_seconds=900)
    assert not wrong(guard, "201")
    clock.advance(100)
    assert not wrong(guard, "201")
    assert wrong(guard, "201")  # the third failure locks
    assert guard.admit("201") == 800
    assert guard.admit("202") is None  # per extension
    guard.done("202")
    clock.advance(799)
    assert guard.admit("201") == 1
    clock.advance(1)
    assert guard.admit("201") is None  # the first failure left the window


def test_attempts_in_flight_count_against_the_limit(clock: FakeClock):
    guard = PinGuard(clock, max_failures=3, window_seconds=900)
    assert not wrong(guard, "201")
    assert guard.admit("201") is None
    assert guard.admit("201") is None
    # Two attempts wait for 1C and one failure is recorded: a fourth must wait.
    assert guard.admit("201") == IN_FLIGHT_RETRY_SECONDS
    guard.done("201")
    guard.succeeded("201")  # that one was right: the count starts over
    assert guard.admit("201") is None
    assert guard.admit("201") is None
    assert guard.admit("201") == IN_FLIGHT_RETRY_SECONDS
    for _ in range(3):
        guard.done("201")
    assert guard._in_flight == {}


def test_success_clears_the_count(clock: FakeClock):
    guard = PinGuard(clock, max_failures=2, window_seconds=60)
    wrong(guard, "201")
    guard.succeeded("201")
    assert not wrong(guard, "201")
    assert guard.admit("201") is None


def test_old_failures_are_forgotten(clock: FakeClock):
    guard = PinGuard(clock, max_failures=2, window_seconds=60)
    for ext in ("201", "202", "203"):
        wrong(guard, ext)
    clock.advance(61)
    for ext in ("201", "202", "203"):
        assert guard.admit(ext) is None
        guard.done(ext)
    assert guard._failures == {}
