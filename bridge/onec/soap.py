"""1C's `miko_crm_api` web service over SOAP (zeep, async), as `MikoCrmApi`.

Follows what the incumbent's clients do (research anchor-mikopbx-1c.md §2.4):
HTTP Basic auth; the 1C session cookie is kept and reused; on HTTP 400/500 (1C's
answer to a missing or expired session) one retry with `IBSession: start` and a
fresh cookie jar; 401/403 is an auth error, never retried. zeep loads the WSDL
synchronously (python-zeep#1409), so the client is built once, in a thread; the
WSDL URL needs the same credentials (#1175) and a session header of its own.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any, Self

import httpx
import zeep
from zeep.exceptions import Fault, TransportError, XMLSyntaxError
from zeep.proxy import AsyncServiceProxy
from zeep.transports import AsyncTransport

from bridge.onec.errors import (
    OneCAuthError,
    OneCError,
    OneCProtocolError,
    OneCUnavailable,
    SoapFault,
)
from bridge.onec.web_service import OneCUser

log = logging.getLogger(__name__)

CRM_NAMESPACE = "http://wiki.miko.ru/uniphone:crmapi"
BINDING = f"{{{CRM_NAMESPACE}}}miko_crm_apiSoapBinding"
SESSION_HEADER = "IBSession"
# 1C answers these when the session cookie is missing or stale.
SESSION_STATUSES = frozenset({400, 500})
AUTH_STATUSES = frozenset({401, 403})


class SoapMikoCrmApi:
    """Use `await SoapMikoCrmApi.connect(...)`, then `aclose()` (or `async with`)."""

    def __init__(self, http: httpx.AsyncClient, service: Any, endpoint: str) -> None:
        self._http = http
        self._service = service
        self._endpoint = endpoint
        self._session_lock = asyncio.Lock()

    @classmethod
    async def connect(
        cls,
        url: str,
        *,
        username: str,
        password: str,
        timeout_seconds: float = 10.0,
        verify_tls: bool = True,
    ) -> Self:
        """Load the WSDL (in a thread) and bind to `url`, whatever soap:address says."""
        auth = httpx.BasicAuth(username, password)
        http = httpx.AsyncClient(auth=auth, timeout=timeout_seconds, verify=verify_tls)
        wsdl_http = httpx.Client(auth=auth, timeout=timeout_seconds, verify=verify_tls)
        try:
            transport = AsyncTransport(client=http, wsdl_client=wsdl_http)  # type: ignore[no-untyped-call]
            # AsyncTransport resets the headers; the WSDL needs a session of its own.
            transport.wsdl_client.headers[SESSION_HEADER] = "start"
            client = await asyncio.to_thread(
                zeep.AsyncClient, url + "?wsdl", transport=transport
            )
        except (TransportError, httpx.HTTPError, XMLSyntaxError, OSError) as exc:
            await http.aclose()
            raise _translate(exc, url) from exc
        finally:
            await asyncio.to_thread(wsdl_http.close)
        # Bind to `url`: behind NAT the WSDL's soap:address names a host we cannot
        # reach. Not `create_service`: on AsyncClient it returns a sync proxy.
        try:
            binding = client.wsdl.bindings[BINDING]
        except KeyError:
            await http.aclose()
            raise OneCProtocolError(
                f"WSDL has no binding {BINDING}", endpoint=url
            ) from None
        proxy = AsyncServiceProxy(client, binding, address=url)  # type: ignore[no-untyped-call]
        return cls(http, proxy, url)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def call_event(self, subject: str, data: str) -> None:
        await self._invoke("call_event", Subject=subject, Data=data)

    async def user_list(self) -> list[OneCUser]:
        result = await self._invoke("user_list")
        return parse_user_list(str(result or ""), self._endpoint)

    async def _invoke(self, operation: str, **params: str) -> Any:
        try:
            return await self._call(operation, params)
        except TransportError as exc:
            if exc.status_code not in SESSION_STATUSES:
                raise _translate(exc, self._endpoint) from exc
            log.info(
                "1C web service session refused (HTTP %s); starting a new one",
                exc.status_code,
            )
        except (Fault, httpx.HTTPError, XMLSyntaxError) as exc:
            raise _translate(exc, self._endpoint) from exc
        return await self._retry_with_new_session(operation, params)

    async def _retry_with_new_session(
        self, operation: str, params: dict[str, str]
    ) -> Any:
        async with self._session_lock:
            self._http.cookies.clear()
            self._http.headers[SESSION_HEADER] = "start"
            try:
                return await self._call(operation, params)
            except (TransportError, Fault, httpx.HTTPError, XMLSyntaxError) as exc:
                raise _translate(exc, self._endpoint) from exc
            finally:
                del self._http.headers[SESSION_HEADER]

    async def _call(self, operation: str, params: dict[str, str]) -> Any:
        return await getattr(self._service, operation)(**params)


def parse_user_list(text: str, endpoint: str = "") -> list[OneCUser]:
    """`user_list`'s JSON string: rows of id/name/extension, repeated per mobile."""
    try:
        rows = json.loads(text.lstrip("\ufeff") or "[]")
    except json.JSONDecodeError as exc:
        raise OneCProtocolError(
            f"user_list is not JSON: {exc}", endpoint=endpoint
        ) from exc
    if not isinstance(rows, list):
        raise OneCProtocolError("user_list is not a JSON array", endpoint=endpoint)
    users: dict[str, OneCUser] = {}
    for row in rows:
        if not isinstance(row, dict) or not row.get("id"):
            continue
        user_id = str(row["id"])
        if user_id not in users:
            users[user_id] = OneCUser(
                user_id, str(row.get("name") or ""), str(row.get("extension") or "")
            )
    return list(users.values())


def _translate(exc: Exception, endpoint: str) -> OneCError:
    if isinstance(exc, TransportError):
        if exc.status_code in AUTH_STATUSES:
            return OneCAuthError(
                f"1C refused the credentials (HTTP {exc.status_code})",
                endpoint=endpoint,
            )
        return OneCUnavailable(
            f"1C web service HTTP {exc.status_code}", endpoint=endpoint
        )
    if isinstance(exc, Fault):
        return SoapFault(f"1C SOAP fault: {exc.message}", endpoint=endpoint)
    if isinstance(exc, XMLSyntaxError):
        return OneCProtocolError(f"1C answered invalid XML: {exc}", endpoint=endpoint)
    return OneCUnavailable(
        f"1C web service unreachable: {type(exc).__name__}", endpoint=endpoint
    )
