"""The real `telebridge serve` in a child process, for benchmarks and the
reliability test: start it, wait until it answers, SIGKILL or SIGTERM it."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
from pathlib import Path

import aiohttp

from jobs.catalog import CHANNEL_OF_JOB

ADMIN_TOKEN = "bench-admin-token-0123456789abcdef"  # noqa: S105 - a throwaway service


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_config(folder: Path, port: int, extra: str = "") -> Path:
    path = folder / "telebridge.toml"
    path.write_text(
        f'[http]\nhost = "127.0.0.1"\nport = {port}\n{extra}\n'
        "[crmd]\nenabled = false\n[agi]\nenabled = false\n"
        f'[storage]\ndata_dir = "{folder / "var"}"\n'
        f'[auth]\nadmin_token = "{ADMIN_TOKEN}"\n'
        '[logging]\nlevel = "warning"\n'
        # The channels open all day: the seeded 08:00-21:00 window would close
        # them on an evening run.
        + "".join(
            f'[jobs.seed.{job}.schedule]\nbegin_time = "00:00:00"\n'
            for job in CHANNEL_OF_JOB
        ),
        encoding="utf-8",
    )
    return path


class ServiceProcess:
    def __init__(self, config: Path, port: int) -> None:
        self.config = config
        self.url = f"http://127.0.0.1:{port}"
        self.proc: asyncio.subprocess.Process | None = None

    @property
    def admin(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {ADMIN_TOKEN}"}

    async def start(self, deadline: float = 30) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("TELEBRIDGE_")}
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bridge.cli",
            "serve",
            "--config",
            str(self.config),
            env=env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        async with asyncio.timeout(deadline), aiohttp.ClientSession() as session:
            while True:  # across a process boundary: poll with a deadline
                if self.proc.returncode is not None:
                    raise RuntimeError(f"serve exited with {self.proc.returncode}")
                with contextlib.suppress(aiohttp.ClientError):
                    async with session.get(self.url + "/healthz") as resp:
                        if resp.status == 200:
                            return
                await asyncio.sleep(0.05)

    async def kill(self) -> None:
        await self._signal(signal.SIGKILL)

    async def terminate(self) -> int:
        return await self._signal(signal.SIGTERM)

    async def _signal(self, sig: int) -> int:
        assert self.proc is not None
        if self.proc.returncode is None:
            self.proc.send_signal(sig)
        code = await self.proc.wait()
        self.proc = None
        return code

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid
