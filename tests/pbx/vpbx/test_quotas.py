"""Hourly per-method quotas (manual §10.6.4) as token buckets on a fake clock."""

from __future__ import annotations

import pytest

from pbx.config import VpbxQuotas
from pbx.vpbx.errors import VpbxQuotaExhausted
from pbx.vpbx.quotas import Quotas, TokenBucket


def test_the_defaults_are_the_manuals_figures():
    quotas = VpbxQuotas()
    assert (quotas.users_info, quotas.call_info) == (100, 100)
    assert (quotas.call_back, quotas.get_record) == (1000, 1000)
    assert quotas.domain_call_history == quotas.download_call_history == 500
    assert quotas.restricting_user_outgoing_calls_get == 500
    assert quotas.restricting_user_outgoing_calls_set == 500


def test_a_full_bucket_lets_the_hourly_figure_through_then_refuses(clock):
    quotas = Quotas({"users_info": 100}, clock.monotonic)
    for _ in range(100):
        quotas.take("users_info")
    with pytest.raises(VpbxQuotaExhausted) as caught:
        quotas.take("users_info")
    # One token refills every 36 s at 100 an hour.
    assert caught.value.retry_after == pytest.approx(36.0)
    assert caught.value.method == "users_info"


def test_tokens_come_back_at_the_hourly_rate(clock):
    bucket = TokenBucket(100, clock.monotonic)
    for _ in range(100):
        assert bucket.take() == 0.0
    clock.advance(35)
    assert bucket.take() == pytest.approx(1.0)
    clock.advance(1)
    assert bucket.take() == 0.0


def test_no_hour_long_window_sees_more_than_the_figure(clock):
    bucket = TokenBucket(100, clock.monotonic)
    taken = [second for second in range(0, 3 * 3600, 5) if bucket.take() == 0.0]
    for i, start in enumerate(taken):
        in_window = [t for t in taken[i:] if t < start + 3600]
        assert len(in_window) <= 100 + 1  # the token refilled at the window's edge


def test_a_bucket_never_holds_more_than_its_capacity(clock):
    bucket = TokenBucket(10, clock.monotonic)
    clock.advance(10 * 3600)
    assert bucket.available == 10


def test_a_zero_quota_refuses_everything(clock):
    with pytest.raises(VpbxQuotaExhausted):
        Quotas({"call_back": 0}, clock.monotonic).take("call_back")


def test_methods_are_counted_apart_and_unlisted_ones_are_free(clock):
    quotas = Quotas({"call_info": 1, "users_info": 1}, clock.monotonic)
    quotas.take("call_info")
    quotas.take("users_info")
    quotas.take("something_else")
    assert quotas.remaining() == {"call_info": 0, "users_info": 0}
