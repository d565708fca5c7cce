"""Errors from talking to 1C, raised by every 1C client (OData, SOAP).

    OneCError
    ├── OneCUnavailable      connect failed, timed out, or 5xx: try again later
    │   └── OneCUnreachable  connect failed: the request never reached 1C
    ├── OneCAuthError        401/403: credentials or rights; retrying won't help
    └── OneCProtocolError    1C answered, but not what the protocol promises
        ├── ODataError       an odata.error body (code and message from 1C)
        └── SoapFault        a SOAP fault

Each carries the endpoint it concerns (never credentials). Clients catch transport
exceptions in one place and raise these `from` the cause.
"""

from __future__ import annotations


class OneCError(Exception):
    def __init__(self, message: str, *, endpoint: str = "") -> None:
        super().__init__(f"{message} ({endpoint})" if endpoint else message)
        self.endpoint = endpoint


class OneCUnavailable(OneCError):
    pass


class OneCUnreachable(OneCUnavailable):
    """Nothing was sent, so even a write may be repeated safely."""


class OneCAuthError(OneCError):
    pass


class OneCProtocolError(OneCError):
    pass


class ODataError(OneCProtocolError):
    def __init__(
        self, code: str, message: str, *, status: int, endpoint: str = ""
    ) -> None:
        super().__init__(
            f"1C OData error {code} (HTTP {status}): {message}", endpoint=endpoint
        )
        self.code = code
        self.status = status


class SoapFault(OneCProtocolError):
    pass
