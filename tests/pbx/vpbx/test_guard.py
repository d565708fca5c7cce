"""Webhook admission: configuration, address allowlist, headers, key rotation."""

from __future__ import annotations

import pytest

from bridge.clock import FakeClock
from pbx.config import VpbxConfig
from pbx.vpbx.guard import Credentials, KeyUsed, Rejection, WebhookGuard
from pbx.vpbx.signature import sign

CLIENT_ID = "1874BAB574D929ECDD7C2880185FBF69"
KEY = "259D87F014309CD190E91AC53C9C39E0"
OLD_KEY = "0123456789ABCDEF0123456789ABCDEF"
BODY = b'{"session_id":"s1","state":"new"}'


def guard(clock: FakeClock, **overrides) -> WebhookGuard:
    values = {"client_id": CLIENT_ID, "sign_key": KEY, **overrides}
    return WebhookGuard(VpbxConfig(**values), clock)


def offer(key: str = KEY, *, remote="10.0.0.5", client_id=CLIENT_ID, body=BODY):
    return Credentials(remote, client_id, sign(CLIENT_ID, body, key), body)


def test_a_correctly_signed_request_is_accepted_with_the_current_key(clock):
    verdict = guard(clock).check(offer())
    assert verdict.accepted
    assert verdict.key is KeyUsed.CURRENT


def test_nothing_is_accepted_until_configured(clock):
    verdict = WebhookGuard(VpbxConfig(), clock).check(offer())
    assert verdict.rejection is Rejection.NOT_CONFIGURED


@pytest.mark.parametrize(
    "credentials",
    [
        Credentials("10.0.0.5", None, "abc", BODY),
        Credentials("10.0.0.5", CLIENT_ID, None, BODY),
        Credentials("10.0.0.5", "", "", BODY),
    ],
)
def test_missing_headers_are_unsigned_and_401(clock, credentials):
    verdict = guard(clock).check(credentials)
    assert verdict.rejection is Rejection.UNSIGNED
    assert verdict.rejection.status == 401


def test_another_client_id_is_refused_with_403(clock):
    verdict = guard(clock).check(offer(client_id="FFFF" + CLIENT_ID[4:]))
    assert verdict.rejection is Rejection.UNKNOWN_CLIENT
    assert verdict.rejection.status == 403


def test_the_client_id_is_compared_case_insensitively(clock):
    assert guard(clock).check(offer(client_id=CLIENT_ID.lower())).accepted


def test_a_signature_over_other_bytes_is_refused(clock):
    tampered = Credentials("10.0.0.5", CLIENT_ID, offer().signature, BODY + b" ")
    assert guard(clock).check(tampered).rejection is Rejection.BAD_SIGNATURE


def test_the_previous_key_is_accepted_only_during_the_grace_window(clock):
    g = guard(clock, previous_sign_key=OLD_KEY, rotation_grace_seconds=3600)
    assert g.check(offer(OLD_KEY)).key is KeyUsed.PREVIOUS
    clock.advance(3600)
    assert g.check(offer(OLD_KEY)).accepted
    clock.advance(1)
    assert g.check(offer(OLD_KEY)).rejection is Rejection.BAD_SIGNATURE
    assert g.check(offer(KEY)).key is KeyUsed.CURRENT


def test_without_a_previous_key_old_signatures_are_refused(clock):
    assert guard(clock).check(offer(OLD_KEY)).rejection is Rejection.BAD_SIGNATURE


@pytest.mark.parametrize(
    ("remote", "accepted"),
    [
        ("194.54.1.2", True),
        ("10.1.2.3", True),
        ("10.1.2.4", False),
        ("8.8.8.8", False),
        (None, False),
        ("not-an-ip", False),
    ],
)
def test_the_allowlist_admits_listed_addresses_and_networks(clock, remote, accepted):
    g = guard(clock, allowlist=("194.54.0.0/16", "10.1.2.3"))
    verdict = g.check(offer(remote=remote))
    assert verdict.accepted is accepted
    if not accepted:
        assert verdict.rejection is Rejection.ADDRESS_NOT_ALLOWED


def test_a_bad_allowlist_entry_is_a_config_error():
    with pytest.raises(ValueError, match="does not appear to be an IPv4 or IPv6"):
        VpbxConfig(allowlist=("10.0.0.300",))


def test_behind_a_trusted_proxy_the_forwarded_address_is_the_source(clock):
    g = guard(clock, trusted_proxies=("127.0.0.1",))
    assert g.source("127.0.0.1", "10.9.9.9, 194.54.1.2") == "194.54.1.2"


def test_forwarded_headers_from_anyone_else_are_ignored(clock):
    g = guard(clock, trusted_proxies=("127.0.0.1",))
    assert g.source("203.0.113.7", "194.54.1.2") == "203.0.113.7"
    assert guard(clock).source("127.0.0.1", "194.54.1.2") == "127.0.0.1"
    assert g.source("127.0.0.1", None) == "127.0.0.1"
