"""A client for 1C's standard OData interface (v3, JSON), on aiohttp.

Transport only: it fetches entity sets, creates objects, and turns every failure
into the 1C exception tree (`bridge.onec.errors`). What to fetch is decided by the
mapping (`bridge.onec.mappings`); names are constants there, never read from
`$metadata` at run time. Transient failures (connect, timeout, 5xx) of reads are
retried a few times with backoff; 401/403 and protocol errors are not, so a wrong
password never turns into a retry storm. A create is retried only when the
connection never opened: after a timeout or a 5xx 1C may have written the object,
and a blind retry would write a second one.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Self
from urllib.parse import quote

import aiohttp
from tenacity import (
    AsyncRetrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
)
from yarl import URL

from bridge.onec.errors import (
    ODataError,
    OneCAuthError,
    OneCError,
    OneCProtocolError,
    OneCUnavailable,
    OneCUnreachable,
)
from bridge.onec.literals import Query

log = logging.getLogger(__name__)

Entity = dict[str, Any]
DEFAULT_PAGE_SIZE = 1000
_ALL = Query()
HTTP_UNAUTHORIZED = 401
HTTP_FORBIDDEN = 403
HTTP_SERVER_ERROR = 500
# 1C's internal error code for "access rights" (reference 17.4.10).
ODATA_ACCESS_DENIED = "20"
_JSON_BODY = {"Content-Type": "application/json; charset=utf-8"}


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int = 3
    initial_wait: float = 0.5
    max_wait: float = 5.0


class ODataClient:
    """One publication's `/odata/standard.odata/`; use as an async context manager."""

    def __init__(
        self,
        base_url: str,
        *,
        username: str,
        password: str,
        timeout: float = 10.0,
        verify_tls: bool = True,
        retry: RetryPolicy = RetryPolicy(),
    ) -> None:
        self._base = base_url if base_url.endswith("/") else base_url + "/"
        # Set per session, never logged: the header is built once from the secret.
        self._auth = aiohttp.encode_basic_auth(username, password)
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        # False switches verification off; True keeps aiohttp's default checks.
        self._ssl: ssl.SSLContext | bool = verify_tls
        self._retry = retry
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Self:
        self._session = aiohttp.ClientSession(
            headers={"Authorization": self._auth, "Accept": "application/json"},
            timeout=self._timeout,
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    @property
    def endpoint(self) -> str:
        return self._base

    async def get(self, entity_set: str, query: Query = _ALL) -> list[Entity]:
        """One request: the `value` array of a collection."""
        body = await self._get_json(entity_set, query)
        value = body.get("value")
        if not isinstance(value, list):
            raise OneCProtocolError(
                "OData answer has no 'value' array", endpoint=entity_set
            )
        return value

    async def pages(
        self, entity_set: str, query: Query, page_size: int = DEFAULT_PAGE_SIZE
    ) -> AsyncIterator[list[Entity]]:
        """Page with `$skip`/`$top`; 1C has no server-driven paging (no nextLink).

        The next page is requested while the caller works on this one, so 1C's
        time and ours overlap. The query must have a stable `$orderby`, or rows
        may move between pages.
        """
        skip = 0
        ahead = asyncio.ensure_future(self.get(entity_set, query.page(0, page_size)))
        try:
            while True:
                rows = await ahead
                more = len(rows) >= page_size
                if more:
                    skip += len(rows)
                    ahead = asyncio.ensure_future(
                        self.get(entity_set, query.page(skip, page_size))
                    )
                if rows:
                    yield rows
                if not more:
                    return
        finally:
            if not ahead.done():
                ahead.cancel()
                with contextlib.suppress(asyncio.CancelledError, OneCError):
                    await ahead

    async def create(self, entity_set: str, fields: Entity) -> Entity:
        """POST a new object to its entity set; the object as 1C created it.

        Not idempotent: the caller must be able to find an object whose creation
        it could not confirm (`OneCUnavailable` other than `OneCUnreachable`).
        """
        url = URL(self._base + _quote_path(entity_set) + "?$format=json", encoded=True)
        body = json.dumps(fields, ensure_ascii=False).encode("utf-8")
        raw = await self._request(url, entity_set, body=body)
        entity = _json_object(raw, entity_set)
        if not isinstance(entity.get("Ref_Key"), str):
            raise OneCProtocolError(
                "OData create answer has no Ref_Key", endpoint=entity_set
            )
        return entity

    async def metadata(self) -> str:
        """The `$metadata` document (for `check` and diagnostics, not for mapping)."""
        raw = await self._request(URL(self._base + "$metadata"), "$metadata")
        return raw.decode("utf-8-sig")

    async def _get_json(self, entity_set: str, query: Query) -> dict[str, Any]:
        url = URL(
            self._base + _quote_path(entity_set) + "?" + query.query_string(),
            encoded=True,
        )
        return _json_object(await self._request(url, entity_set), entity_set)

    async def _request(self, url: URL, what: str, body: bytes | None = None) -> bytes:
        """GET, or POST `body`; only a write that never left is safe to repeat."""
        transient = OneCUnavailable if body is None else OneCUnreachable
        async for attempt in AsyncRetrying(
            retry=retry_if_exception_type(transient),
            stop=stop_after_attempt(self._retry.attempts),
            wait=wait_exponential(
                multiplier=self._retry.initial_wait, max=self._retry.max_wait
            ),
            reraise=True,
        ):
            with attempt:
                return await self._request_once(url, what, body)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _request_once(self, url: URL, what: str, body: bytes | None) -> bytes:
        if self._session is None:
            raise RuntimeError("ODataClient used outside 'async with'")
        try:
            async with self._session.request(
                "GET" if body is None else "POST",
                url,
                data=body,
                ssl=self._ssl,
                headers=None if body is None else _JSON_BODY,
            ) as resp:
                raw = await resp.read()
                status = resp.status
        except aiohttp.ClientConnectorCertificateError as exc:
            raise OneCUnavailable(
                "1C's TLS certificate is not trusted (install its CA; "
                "onec.verify_tls = false only for a test server)",
                endpoint=what,
            ) from exc
        except aiohttp.ClientConnectorError as exc:
            raise OneCUnreachable(
                f"1C OData unreachable: {type(exc).__name__}", endpoint=what
            ) from exc
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise OneCUnavailable(
                f"1C OData unreachable: {type(exc).__name__}", endpoint=what
            ) from exc
        if status >= 400:
            raise _error(status, raw, what)
        return raw


def _json_object(raw: bytes, what: str) -> dict[str, Any]:
    try:
        body = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise OneCProtocolError(
            f"OData answer is not JSON: {exc}", endpoint=what
        ) from exc
    if not isinstance(body, dict):
        raise OneCProtocolError("OData answer is not an object", endpoint=what)
    return body


def _error(status: int, raw: bytes, what: str) -> OneCError:
    if status in (HTTP_UNAUTHORIZED, HTTP_FORBIDDEN):
        return OneCAuthError(
            f"1C refused the credentials (HTTP {status})", endpoint=what
        )
    parsed = _odata_error(raw)
    if status >= HTTP_SERVER_ERROR:
        detail = f": {parsed[1]}" if parsed else ""
        return OneCUnavailable(f"1C OData HTTP {status}{detail}", endpoint=what)
    if parsed is None:
        return OneCProtocolError(f"1C OData HTTP {status}", endpoint=what)
    code, message = parsed
    if code == ODATA_ACCESS_DENIED:
        return OneCAuthError(f"1C access rights: {message}", endpoint=what)
    return ODataError(code, message, status=status, endpoint=what)


def _odata_error(raw: bytes) -> tuple[str, str] | None:
    """(code, message) of a JSON `odata.error` body, or None."""
    try:
        body = json.loads(raw.decode("utf-8-sig"))
        err = body["odata.error"]
        message = err.get("message", {})
        text = message.get("value", "") if isinstance(message, dict) else str(message)
        return str(err.get("code", "")), str(text)
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def _quote_path(entity_set: str) -> str:
    return quote(entity_set, safe="()'=,_-:")
