"""`telebridge check`: validate the config, then try each configured peer."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from sqlalchemy import text

from bridge.config import Config
from bridge.storage import migrate
from bridge.storage.database import Database

PROBE_TIMEOUT = 5.0


@dataclass(frozen=True, slots=True)
class CheckResult:
    component: str
    target: str
    ok: bool | None  # None: not configured
    detail: str


Probe = Callable[[Config], Awaitable[CheckResult]]


async def run_checks(config: Config) -> list[CheckResult]:
    from pbx.vpbx.probe import probe_vpbx  # here: it imports CheckResult from us

    probes: list[Probe] = [_database, _asterisk, _onec, _cdr, probe_vpbx]
    return list(await asyncio.gather(*(_bounded(p, config) for p in probes)))


def render(results: list[CheckResult]) -> str:
    rows = [("component", "target", "result", "detail")]
    for r in results:
        verdict = "not configured" if r.ok is None else ("ok" if r.ok else "FAILED")
        rows.append((r.component, r.target or "-", verdict, r.detail))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = [
        "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:3]))
        + "  "
        + row[3]
        for row in rows
    ]
    return "\n".join(line.rstrip() for line in lines)


async def _bounded(probe: Probe, config: Config) -> CheckResult:
    try:
        async with asyncio.timeout(PROBE_TIMEOUT):
            return await probe(config)
    except TimeoutError:
        name = probe.__name__.strip("_")
        return CheckResult(name, "", False, f"no answer within {PROBE_TIMEOUT:g} s")


async def _database(config: Config) -> CheckResult:
    db = Database.from_config(config.storage)
    target = db.safe_url()
    try:
        async with db.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        current = await migrate.current_revision(db)
    except Exception as exc:  # noqa: BLE001 - the operator wants the reason, any
        return CheckResult("database", target, False, _why(exc))
    finally:
        await db.dispose()
    head = migrate.head_revision()
    detail = f"schema {current or 'empty'}" + (
        "" if current == head else f", head {head}"
    )
    return CheckResult("database", target, True, detail)


async def _asterisk(config: Config) -> CheckResult:
    ami = config.asterisk
    if not ami.host:
        return CheckResult("asterisk", "", None, "asterisk.host is empty")
    target = f"{ami.host}:{ami.port}"
    try:
        reader, writer = await asyncio.open_connection(ami.host, ami.port)
        banner = (await reader.readline()).decode("utf-8", "replace").strip()
        writer.close()
        await writer.wait_closed()
    except OSError as exc:
        return CheckResult("asterisk", target, False, _why(exc))
    ok = banner.startswith("Asterisk Call Manager")
    return CheckResult("asterisk", target, ok, banner or "no banner")


async def _onec(config: Config) -> CheckResult:
    onec = config.onec
    if not onec.odata_url:
        return CheckResult("1c", "", None, "onec.odata_url is empty")
    return await _http_probe(
        "1c",
        onec.odata_url,
        aiohttp.BasicAuth(onec.username, onec.password.get_secret_value()),
        verify_tls=onec.verify_tls,
    )


async def _cdr(config: Config) -> CheckResult:
    cdr = config.cdr
    if cdr.source == "none":
        return CheckResult("cdr", "", None, "cdr.source is 'none'")
    if cdr.source == "csv":
        path = Path(cdr.path)
        ok = await asyncio.to_thread(path.is_file)
        return CheckResult("cdr", str(path), ok, "readable" if ok else "file not found")
    if cdr.source == "sql":
        db = Database(cdr.url)
        try:
            async with db.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception as exc:  # noqa: BLE001 - the operator wants the reason, any
            return CheckResult("cdr", db.safe_url(), False, _why(exc))
        finally:
            await db.dispose()
        return CheckResult("cdr", db.safe_url(), True, "connected")
    if cdr.source == "mikopbx":
        return await _http_probe("cdr", cdr.url, None, verify_tls=True)
    return CheckResult("cdr", "vpbx", None, "checked with the vpbx section")


async def _http_probe(
    name: str, url: str, auth: aiohttp.BasicAuth | None, *, verify_tls: bool
) -> CheckResult:
    timeout = aiohttp.ClientTimeout(total=PROBE_TIMEOUT)
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.get(url, auth=auth, ssl=verify_tls) as resp,
        ):
            ok = resp.status < 400
            return CheckResult(name, url, ok, f"HTTP {resp.status}")
    except aiohttp.ClientError as exc:
        return CheckResult(name, url, False, _why(exc))


def _why(exc: BaseException) -> str:
    text_ = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text_}" if text_ else type(exc).__name__
