"""Rostelecom get_number_info routes a known caller to the responsible's PIN."""

from __future__ import annotations

from datetime import timedelta

from jobs.routing_table.ranking import Interaction
from jobs.routing_table.store import RoutingStore
from tests.pbx.vpbx.webhook_harness import post, setup  # noqa: F401 - fixture


async def test_known_caller_is_routed_to_the_responsible_pin(setup) -> None:  # noqa: F811
    client, core, _sink = await setup()
    store = RoutingStore(core.db)
    now = core.clock.now()
    await store.add(
        [
            Interaction("+79161234567", "205", "calls", now - timedelta(days=1), 2),
            Interaction("+79161234567", "206", "calls", now - timedelta(days=1), 1),
        ]
    )
    known = await post(
        client,
        "get_number_info",
        {
            "domain": "x.rt.ru",
            "from_number": "79161234567",
            "request_number": "74951234567",
        },
    )
    body = await known.json()
    assert body["result"] == "1"
    assert body["PIN"] == "205"
    assert body["displayName"] == "ООО Ромашка"
    unknown = await post(
        client,
        "get_number_info",
        {
            "domain": "x.rt.ru",
            "from_number": "79990000000",
            "request_number": "74951234567",
        },
    )
    body = await unknown.json()
    assert body["result"] == "0"
    assert "PIN" not in body or not body["PIN"]
