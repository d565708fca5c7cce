"""Export-ready notices reach whoever waits for their order id, in either order."""

from __future__ import annotations

import asyncio

from pbx.vpbx.history_files import HistoryFiles
from pbx.vpbx.models import HistoryFileCompleted


def notice(order_id: str, **extra: object) -> HistoryFileCompleted:
    return HistoryFileCompleted.model_validate({"order_id": order_id, **extra})


async def test_a_waiter_is_woken_by_its_notice_only():
    files = HistoryFiles()
    waiting = asyncio.create_task(files.wait("ORD-1"))
    await asyncio.sleep(0)
    await files.deliver(notice("ORD-2"))
    assert not waiting.done()
    await files.deliver(notice("ORD-1", rows=10))
    async with asyncio.timeout(5):
        got = await waiting
    assert got.unknown_fields() == {"rows": 10}


async def test_a_notice_that_came_first_is_kept_for_the_waiter():
    files = HistoryFiles()
    await files.deliver(notice("ORD-1"))
    async with asyncio.timeout(5):
        assert (await files.wait("ORD-1")).export_id == "ORD-1"


async def test_old_notices_are_forgotten_beyond_the_limit():
    files = HistoryFiles(keep=2)
    for n in range(3):
        await files.deliver(notice(f"ORD-{n}"))
    waiting = asyncio.create_task(files.wait("ORD-0"))
    await asyncio.sleep(0)
    assert not waiting.done()
    waiting.cancel()
    await asyncio.gather(waiting, return_exceptions=True)


async def test_a_cancelled_wait_leaves_nothing_behind():
    files = HistoryFiles()
    waiting = asyncio.create_task(files.wait("ORD-1"))
    await asyncio.sleep(0)
    waiting.cancel()
    await asyncio.gather(waiting, return_exceptions=True)
    assert files._waiters == {}


async def test_subscribers_hear_every_notice_and_one_failing_does_not_stop_others():
    files = HistoryFiles()
    heard: list[str] = []

    async def broken(_: HistoryFileCompleted) -> None:
        raise RuntimeError("journal down")

    async def journal(n: HistoryFileCompleted) -> None:
        heard.append(n.export_id)

    files.subscribe(broken)
    files.subscribe(journal)
    await files.deliver(notice("ORD-1"))
    assert heard == ["ORD-1"]


def test_the_export_id_is_found_under_other_names():
    assert HistoryFileCompleted.model_validate({"request_id": 5}).export_id == "5"
    assert HistoryFileCompleted.model_validate({"id": "X"}).export_id == "X"
    assert HistoryFileCompleted.model_validate({"other": 1}).export_id == ""
