"""The Rostelecom client (`pbx.vpbx`) as the journal's `CallHistoryExport`.

Order an export, wait for the `history_file_completed` webhook (or poll), and
download the CSV. A JSON answer where the file should be means "not ready yet"
and is polled again (bounded by `cdr.vpbx_export_timeout_seconds`); a refusal or
a transport failure is the source being down.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from jobs.cdr_loader.sources.vpbx_export import ExportFailed
from pbx.vpbx.client import VpbxClient
from pbx.vpbx.errors import VpbxBadReply, VpbxError
from pbx.vpbx.history_files import HistoryFiles


class VpbxHistory:
    def __init__(self, client: VpbxClient, notices: HistoryFiles) -> None:
        self._client = client
        self._notices = notices

    async def request_export(self, since: datetime, until: datetime) -> str:
        try:
            order = await self._client.domain_call_history(since, until)
        except VpbxError as exc:
            raise ExportFailed(str(exc)) from None
        if not order.order_id:
            raise ExportFailed("domain_call_history gave no order id")
        return order.order_id

    async def wait_completed(self, export_id: str, within: float) -> bool:
        try:
            async with asyncio.timeout(within):
                await self._notices.wait(export_id)
        except TimeoutError:
            return False
        return True

    async def download(self, export_id: str) -> bytes | None:
        try:
            return await self._client.download_call_history(export_id)
        except VpbxBadReply:
            return None
        except VpbxError as exc:
            raise ExportFailed(str(exc)) from None
