"""The outbound Integration API client (`https://api.cloudpbx.rt.ru:4443/<method>`).

Each call serializes its body once, signs those bytes and sends the same bytes
(manual §10.6.3), after taking a token from the method's hourly quota. Failures
surface as the `pbx.vpbx.errors` tree. Field names the manual does not give are
those of public integrations (research seed-002 §1.10); methods whose fields no
source names (`users_info`, the restriction pair, `user_calls_charges`) take the
body as a mapping, so a caller follows the admin guide without a code change.
"""

from __future__ import annotations

import enum
import gzip
import json
import logging
import ssl
import zlib
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Self, TypeVar
from zoneinfo import ZoneInfo

import aiohttp
from pydantic import ValidationError

from bridge.clock import Clock
from pbx.config import VpbxConfig
from pbx.vpbx.errors import (
    VpbxBadReply,
    VpbxError,
    VpbxNotConfigured,
    VpbxRefused,
    VpbxRejected,
    VpbxUnavailable,
)
from pbx.vpbx.metrics import VpbxMetrics
from pbx.vpbx.models import ApiReply, CallInfo, HistoryOrder, RecordLink
from pbx.vpbx.quotas import Quotas
from pbx.vpbx.signature import sign

log = logging.getLogger(__name__)
R = TypeVar("R", bound=ApiReply)
GZIP_MAGIC = b"\x1f\x8b"
HISTORY_DATE_FORMAT = "%Y-%m-%d %H:%M:%S"
# How much of a refusal's body goes into the error message.
_ERROR_TEXT_CHARS = 200


class HistoryDirection(enum.IntEnum):
    """`direction` of domain_call_history; only 0 ("all") is seen in the manual."""

    ALL = 0
    INCOMING = 1
    OUTGOING = 2
    INTERNAL = 3


class HistoryState(enum.IntEnum):
    """`state` of domain_call_history: all, accepted, not accepted."""

    ALL = 0
    ACCEPTED = 1
    NOT_ACCEPTED = 2


class Method(enum.StrEnum):
    CALL_BACK = "call_back"
    GET_RECORD = "get_record"
    USERS_INFO = "users_info"
    CALL_INFO = "call_info"
    USER_CALLS_CHARGES = "user_calls_charges"
    DOMAIN_CALL_HISTORY = "domain_call_history"
    DOWNLOAD_CALL_HISTORY = "download_call_history"
    GET_RESTRICTION = "restricting_user_outgoing_calls/get"
    SET_RESTRICTION = "restricting_user_outgoing_calls/set"

    @property
    def quota_key(self) -> str:
        return self.value.replace("/", "_")


class VpbxClient:
    def __init__(
        self, config: VpbxConfig, clock: Clock, metrics: VpbxMetrics | None = None
    ) -> None:
        self._config = config
        self._base = config.api_url.rstrip("/")
        self._zone = ZoneInfo(config.timezone)
        self._metrics = metrics
        self.quotas = Quotas(config.quotas.model_dump(), clock.monotonic)
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Self:
        connector = aiohttp.TCPConnector(ssl=tls_setting(self._config))
        timeout = aiohttp.ClientTimeout(total=self._config.request_timeout_seconds)
        self._session = aiohttp.ClientSession(connector=connector, timeout=timeout)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def call_back(
        self, from_sipuri: str, request_number: str, **fields: Any
    ) -> ApiReply:
        """Ring the employee (`from_sipuri`, AOR or PIN) first, then the client."""
        body = {"request_number": request_number, "from_sipuri": from_sipuri, **fields}
        return await self._call(Method.CALL_BACK, body, ApiReply)

    async def get_record(self, session_id: str, **fields: Any) -> RecordLink:
        """A temporary link to the call's recording: fetch it, never keep it."""
        body = {"session_id": session_id, **fields}
        return await self._call(Method.GET_RECORD, body, RecordLink)

    async def call_info(self, session_id: str) -> CallInfo:
        return await self._call(Method.CALL_INFO, {"session_id": session_id}, CallInfo)

    async def users_info(self, body: Mapping[str, Any] | None = None) -> ApiReply:
        """The domain's users; quota 100/h, so fetch all of them in one call."""
        return await self._call(Method.USERS_INFO, dict(body or {}), ApiReply)

    async def user_calls_charges(self, body: Mapping[str, Any]) -> ApiReply:
        return await self._call(Method.USER_CALLS_CHARGES, dict(body), ApiReply)

    async def get_outgoing_restriction(self, body: Mapping[str, Any]) -> ApiReply:
        return await self._call(Method.GET_RESTRICTION, dict(body), ApiReply)

    async def set_outgoing_restriction(self, body: Mapping[str, Any]) -> ApiReply:
        return await self._call(Method.SET_RESTRICTION, dict(body), ApiReply)

    async def domain_call_history(
        self,
        start: datetime,
        end: datetime,
        *,
        direction: HistoryDirection = HistoryDirection.ALL,
        state: HistoryState = HistoryState.ALL,
        **fields: Any,
    ) -> HistoryOrder:
        """Order an export of the call journal; `history_file_completed` follows."""
        body = {
            "date_start": self._local(start),
            "date_end": self._local(end),
            "direction": int(direction),
            "state": int(state),
            **fields,
        }
        return await self._call(Method.DOMAIN_CALL_HISTORY, body, HistoryOrder)

    async def download_call_history(self, order_id: str) -> bytes:
        """The export's CSV, un-gzipped."""
        method = Method.DOWNLOAD_CALL_HISTORY
        raw = await self._post(method, {"order_id": order_id})
        if raw.startswith(GZIP_MAGIC):
            try:
                csv = gzip.decompress(raw)
            except (OSError, EOFError, zlib.error) as exc:
                raise self._failed(VpbxBadReply(method, f"bad gzip: {exc}")) from None
            self._count(method, "ok")
            return csv
        if raw.lstrip().startswith(b"{"):
            raise self._failed(self._no_file(method, raw))
        self._count(method, "ok")
        return raw

    @staticmethod
    def _no_file(method: Method, raw: bytes) -> VpbxError:
        """A JSON answer where the file should be: a refusal, or "not ready"."""
        try:
            reply = ApiReply.model_validate_json(raw)
        except ValidationError:
            return VpbxBadReply(method, "neither a file nor a reply")
        if not reply.ok:
            return VpbxRefused(method, reply.result, reply.result_message)
        return VpbxBadReply(method, f"no file: {reply.result_message}")

    async def _call(self, method: Method, body: dict[str, Any], model: type[R]) -> R:
        return self._parse(method, await self._post(method, body), model)

    async def _post(self, method: Method, body: Mapping[str, Any]) -> bytes:
        config = self._config
        key = config.sign_key.get_secret_value()
        if not config.client_id or not key or self._session is None:
            raise VpbxNotConfigured(method, "vpbx.client_id and sign_key are required")
        try:
            self.quotas.take(method.quota_key)
        except VpbxError as exc:
            raise self._failed(exc) from None
        finally:
            self._gauge(method)
        data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "X-Client-ID": config.client_id,
            "X-Client-Sign": sign(config.client_id, data, key),
        }
        url = f"{self._base}/{method.value}"
        try:
            async with self._session.post(url, data=data, headers=headers) as resp:
                raw = await resp.read()
                status = resp.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            reason = type(exc).__name__
            raise self._failed(VpbxUnavailable(method, reason)) from None
        return self._checked(method, status, raw)

    def _checked(self, method: Method, status: int, raw: bytes) -> bytes:
        text = raw[:_ERROR_TEXT_CHARS].decode("utf-8", errors="replace")
        if status >= 500:
            raise self._failed(VpbxUnavailable(method, f"HTTP {status}: {text}"))
        if status >= 400:
            raise self._failed(VpbxRejected(method, status, text))
        return raw

    def _parse(self, method: Method, raw: bytes, model: type[R]) -> R:
        try:
            reply = model.model_validate_json(raw)
        except ValidationError as exc:
            summary = exc.errors()[0]["msg"]
            raise self._failed(VpbxBadReply(method, summary)) from None
        if not reply.ok:
            failure = VpbxRefused(method, reply.result, reply.result_message)
            raise self._failed(failure)
        self._count(method, "ok")
        return reply

    def _failed(self, exc: VpbxError) -> VpbxError:
        outcome = type(exc).__name__.removeprefix("Vpbx").lower()
        self._count(exc.method, outcome)
        log.warning("Rostelecom API %s", exc)
        return exc

    def _count(self, method: str, outcome: str) -> None:
        if self._metrics is not None:
            self._metrics.api_calls.labels(method, outcome).inc()

    def _gauge(self, method: Method) -> None:
        if self._metrics is not None:
            left = self.quotas.remaining().get(method.quota_key, 0)
            self._metrics.quota_remaining.labels(method.value).set(left)

    def _local(self, when: datetime) -> str:
        return when.astimezone(self._zone).strftime(HISTORY_DATE_FORMAT)


def tls_setting(config: VpbxConfig) -> ssl.SSLContext | bool:
    """aiohttp's `ssl=`: off only when asked, else system CAs or the portal's PEM."""
    if not config.verify_tls:
        return False
    if config.ca_file:
        return ssl.create_default_context(cafile=config.ca_file)
    return True
