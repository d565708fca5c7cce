from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.fakes.onec import RunningOneC, serving


@pytest.fixture
async def onec() -> AsyncIterator[RunningOneC]:
    async with serving() as running:
        yield running
