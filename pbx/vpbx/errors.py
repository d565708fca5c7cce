"""What can go wrong calling the Integration API: one tree, raised by the client.

    VpbxError
    ├── VpbxNotConfigured     no client id or key: nothing can be signed
    ├── VpbxQuotaExhausted    the method's hourly quota is spent (retry_after)
    ├── VpbxUnavailable       no answer: connection, TLS, timeout, HTTP 5xx
    ├── VpbxRejected          HTTP 4xx: bad signature, client id or address
    ├── VpbxRefused           the API answered with a non-zero `result`
    └── VpbxBadReply          the answer is not what the method returns

Messages never carry the signing key or the signature.
"""

from __future__ import annotations


class VpbxError(Exception):
    def __init__(self, method: str, message: str) -> None:
        super().__init__(f"{method}: {message}")
        self.method = method


class VpbxNotConfigured(VpbxError):
    pass


class VpbxQuotaExhausted(VpbxError):
    def __init__(self, method: str, retry_after: float) -> None:
        super().__init__(method, f"hourly quota spent; retry in {retry_after:.0f} s")
        self.retry_after = retry_after


class VpbxUnavailable(VpbxError):
    pass


class VpbxRejected(VpbxError):
    def __init__(self, method: str, status: int, message: str) -> None:
        super().__init__(method, f"HTTP {status}: {message}")
        self.status = status


class VpbxRefused(VpbxError):
    def __init__(self, method: str, result: str, message: str) -> None:
        super().__init__(method, f"result {result}: {message}")
        self.result = result
        self.result_message = message


class VpbxBadReply(VpbxError):
    pass
