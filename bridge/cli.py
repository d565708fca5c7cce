"""The `telebridge` command line.

Verbs are fixed by the operator contract (PRODUCT §12). Each feature's command group
is listed in `command_groups()`; commands return the process exit code.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from bridge import __version__
from bridge.checks import render, run_checks
from bridge.config import Config, ConfigError, load_config
from bridge.logs import SecretRedactor, configure_logging
from bridge.storage import migrate
from bridge.storage.database import Database

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_CONFIG = 2

Command = Callable[[argparse.Namespace], int]
Registrar = Callable[["argparse._SubParsersAction[argparse.ArgumentParser]"], None]


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    command: Command | None = getattr(args, "command", None)
    if command is None:
        parser.print_help()
        return EXIT_FAILED
    try:
        return command(args)
    except ConfigError as exc:
        print(f"telebridge: invalid configuration: {exc}", file=sys.stderr)  # noqa: T201
        return EXIT_BAD_CONFIG
    except KeyboardInterrupt:
        return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="telebridge",
        description="Telephony bridge between 1C:Enterprise and office PBXs.",
    )
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")
    for register in command_groups():
        register(sub)
    return parser


def add_config_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        help="TOML config file (default: $TELEBRIDGE_CONFIG, else embedded defaults)",
    )


def load(args: argparse.Namespace) -> tuple[Config, SecretRedactor]:
    """Load the config and set up redacted logging; raises ConfigError."""
    config = load_config(args.config)
    redactor = SecretRedactor(config.secrets())
    configure_logging(config.logging.level, config.logging.format, redactor)
    return config, redactor


def out(text: str) -> None:
    print(text)  # noqa: T201 - the CLI's output is its interface


def _serve(args: argparse.Namespace) -> int:
    from bridge.service import serve

    config, redactor = load(args)
    asyncio.run(serve(config, redactor))
    return EXIT_OK


def _check(args: argparse.Namespace) -> int:
    config, redactor = load(args)
    out("configuration: ok")
    results = asyncio.run(run_checks(config))
    out(redactor.scrub(render(results)))
    return EXIT_FAILED if any(r.ok is False for r in results) else EXIT_OK


def _db_upgrade(args: argparse.Namespace) -> int:
    config, _ = load(args)

    async def upgrade() -> str | None:
        db = Database.from_config(config.storage)
        try:
            await migrate.upgrade(db)
            return await migrate.current_revision(db)
        finally:
            await db.dispose()

    out(f"database schema at revision {asyncio.run(upgrade())}")
    return EXIT_OK


def _version(_args: argparse.Namespace) -> int:
    out(f"telebridge {__version__}")
    return EXIT_OK


def _register_core(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = sub.add_parser("serve", help="run the service", description=_serve_doc())
    add_config_option(serve)
    serve.set_defaults(command=_serve)

    check = sub.add_parser(
        "check",
        help="validate the config and try every configured peer",
        description="Validate the configuration, then try the database, the PBX, "
        "1C and the CDR source, and print what answered. Exit 1 if a configured "
        "peer failed, 2 if the configuration is invalid.",
    )
    add_config_option(check)
    check.set_defaults(command=_check)

    db = sub.add_parser("db", help="database schema", description="Database schema.")
    db_sub = db.add_subparsers(title="commands", metavar="COMMAND")
    upgrade = db_sub.add_parser(
        "upgrade",
        help="migrate the schema to the newest revision",
        description="Apply every pending migration (serve also does this on start).",
    )
    add_config_option(upgrade)
    upgrade.set_defaults(command=_db_upgrade)

    version = sub.add_parser("version", help="print the version")
    version.set_defaults(command=_version)


def _serve_doc() -> str:
    return (
        "Run the service: the HTTP API (default 0.0.0.0:8222), the crmd-compatible "
        "listener (127.0.0.1:8224), the FastAGI server (127.0.0.1:4573), the PBX "
        "adapters and the scheduler. Migrates the database on start. With no config "
        "it runs on embedded defaults (SQLite under ./var). Stops cleanly on SIGTERM."
    )


def command_groups() -> list[Registrar]:
    """Every verb group; features are imported here, at parse time, because their
    CLI modules import this one for its helpers."""
    from bridge.longpoll import cli as consumers_cli
    from jobs import cli as jobs_cli
    from pbx.vpbx import cli as vpbx_cli
    from smart_ivr import cli as ivr_cli
    from tts_cache import cli as tts_cli

    return [
        _register_core,
        consumers_cli.register,
        jobs_cli.register,
        vpbx_cli.register,
        tts_cli.register,
        ivr_cli.register,
    ]


if __name__ == "__main__":
    sys.exit(main())
