"""An in-test stand-in for the consumer registry (`bridge.longpoll.consumer_auth`).

The real registry (tokens stored hashed in the database, admin API) is built on
another branch; these tests need only the protocol: token -> consumer, and panel
tokens issued after 1C authorized a PIN.
"""

from __future__ import annotations

import secrets

from bridge.longpoll.consumer_auth import Consumer, ConsumerKind


class FakeConsumers:
    def __init__(self) -> None:
        self._tokens: dict[str, Consumer] = {}
        self.panel_tokens: list[tuple[str, str, str]] = []  # token, extension, user

    def add(self, name: str, kind: ConsumerKind = ConsumerKind.ONEC) -> str:
        token = f"tok-{name}-{secrets.token_hex(8)}"
        self._tokens[token] = Consumer(name, kind)
        return token

    async def authenticate(self, token: str) -> Consumer | None:
        return self._tokens.get(token)

    async def issue_panel_token(self, extension: str, user_id: str) -> str:
        token = f"panel-{extension}-{secrets.token_hex(8)}"
        self._tokens[token] = Consumer(
            f"panel-{extension}", ConsumerKind.PANEL, extension
        )
        self.panel_tokens.append((token, extension, user_id))
        return token
