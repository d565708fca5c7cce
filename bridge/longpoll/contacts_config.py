"""Settings of the contact-data channel and of panel authorization.

They live in existing sections as sub-tables (`[http.contacts]`, `[auth.panel]`)
and in `[crmd]`, because the top-level section names are an operator contract.
"""

from __future__ import annotations

from pydantic import Field

from bridge.config_base import Section


class ContactChannelConfig(Section):
    """`[http.contacts]`: the request broker 1C long-polls."""

    # A poll without `wait` is held this long; `wait` may ask for at most max_wait.
    default_wait_seconds: int = Field(default=25, ge=0, le=300)
    max_wait_seconds: int = Field(default=50, ge=1, le=300)
    # Most requests handed to one poll.
    max_batch: int = Field(default=50, ge=1, le=1000)
    # How long a panel waits for 1C (authorization, contact card).
    deadline_seconds: float = Field(default=5.0, gt=0, le=60)
    # Requests waiting for a consumer; past this, askers get the fallback at once.
    max_pending: int = Field(default=1000, ge=1, le=1_000_000)
    # Health calls the channel degraded when no 1C consumer polled for this long.
    consumer_stale_seconds: float = Field(default=60.0, gt=0, le=86_400)
    # When no 1C poll was seen for this long, askers get the fallback at once
    # instead of holding every incoming call for the whole deadline.
    absent_after_seconds: float = Field(default=10.0, gt=0, le=86_400)
    # Answered/expired request ids remembered, to tell late and duplicate answers
    # from unknown ones.
    remember_finished: int = Field(default=10_000, ge=100, le=1_000_000)
    # Retry-After sent while the channel window is closed.
    closed_retry_after_seconds: int = Field(default=30, ge=1, le=3600)


class PanelAuthConfig(Section):
    """`[auth.panel]`: PIN guessing protection for `POST /api/v1/panel/auth`."""

    max_failures: int = Field(default=5, ge=1, le=1000)
    window_seconds: int = Field(default=900, ge=1, le=86_400)
