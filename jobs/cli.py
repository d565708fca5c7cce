"""`telebridge jobs list|show|enable|disable|schedule|run|runs`.

Every verb talks to the running service's admin API (so changes apply at once, on
whichever instance runs the schedules) with the admin token from the config or the
data folder.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.request
from typing import Any

from bridge.admin_client import admin_token, base_url
from bridge.config import Config

_TIMEOUT_SECONDS = 120.0
_WEEK_DAYS = (
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
)


class CliError(Exception):
    """Something to tell the operator in one line; exit code 1."""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `telebridge jobs ...` (bridge.cli's COMMAND_GROUPS calls this)."""
    jobs = sub.add_parser(
        "jobs",
        help="the regulated jobs (list, enable, reschedule, run, history)",
        description="Administer the regulated jobs of a running service.",
    )
    verbs = jobs.add_subparsers(title="commands", metavar="COMMAND")
    _verb(verbs, "list", "list the jobs with their schedules", _list, job=False)
    _verb(verbs, "show", "one job in detail", _show)
    _verb(verbs, "enable", "enable a job", _enable)
    _verb(verbs, "disable", "disable a job", _disable)
    _schedule_options(_verb(verbs, "schedule", "change a job's schedule", _schedule))
    run = _verb(verbs, "run", "run a job now and wait for its outcome", _run)
    run.add_argument("--no-wait", action="store_true", help="return once started")
    runs = _verb(verbs, "runs", "a job's run history, newest first", _runs)
    runs.add_argument("--limit", type=int, default=20)


def _verb(
    verbs: argparse._SubParsersAction[argparse.ArgumentParser],
    name: str,
    help_text: str,
    handler: Any,
    *,
    job: bool = True,
) -> argparse.ArgumentParser:
    # Imported here: bridge.cli imports this module to list its command groups.
    from bridge import cli as core_cli

    parser = verbs.add_parser(name, help=help_text, description=help_text)
    if job:
        parser.add_argument("job_id", metavar="JOB", help="job id, e.g. cdr_loader")
    core_cli.add_config_option(parser)
    parser.add_argument("--url", help="service base URL (default: from the config)")
    parser.add_argument("--json", action="store_true", help="print raw JSON")
    parser.set_defaults(command=_wrapped(handler))
    return parser


def _schedule_options(parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument
    add("--begin", help="begin time of day, e.g. 08:00:00")
    add("--end", help="end time of day (inclusive), or 'none'")
    add("--every", help="repeat period in seconds, or 'once' (once a day)")
    add("--week-days", help=f"comma-separated: {','.join(_WEEK_DAYS)}; 'all'")
    add("--every-nth-day", type=int, help="run every Nth day (1: every day)")
    add("--months", help="comma-separated month numbers 1-12, or 'all'")
    add("--day-in-month", type=int, help="day of month 1-31 (0: any)")


def _wrapped(handler: Any) -> Any:
    from bridge import cli as core_cli

    def command(args: argparse.Namespace) -> int:
        config, _ = core_cli.load(args)
        try:
            client = _Client(args.url or base_url(config), _token(config))
            result = handler(client, args)
        except CliError as exc:
            print(f"telebridge jobs: {exc}", file=sys.stderr)  # noqa: T201
            return core_cli.EXIT_FAILED
        if args.json:
            core_cli.out(json.dumps(result, ensure_ascii=False, indent=2))
        else:
            core_cli.out(_render(result))
        return core_cli.EXIT_OK

    return command


def _list(client: _Client, _args: argparse.Namespace) -> Any:
    return client.call("GET", "/api/v1/jobs")


def _show(client: _Client, args: argparse.Namespace) -> Any:
    return client.call("GET", f"/api/v1/jobs/{args.job_id}")


def _enable(client: _Client, args: argparse.Namespace) -> Any:
    return client.call("PATCH", f"/api/v1/jobs/{args.job_id}", {"enabled": True})


def _disable(client: _Client, args: argparse.Namespace) -> Any:
    return client.call("PATCH", f"/api/v1/jobs/{args.job_id}", {"enabled": False})


def _schedule(client: _Client, args: argparse.Namespace) -> Any:
    current = client.call("GET", f"/api/v1/jobs/{args.job_id}")["schedule"]
    schedule = {**current, **_schedule_changes(args)}
    return client.call("PATCH", f"/api/v1/jobs/{args.job_id}", {"schedule": schedule})


def _run(client: _Client, args: argparse.Namespace) -> Any:
    wait = "" if args.no_wait else "?wait=1"
    return client.call("POST", f"/api/v1/jobs/{args.job_id}/run{wait}")


def _runs(client: _Client, args: argparse.Namespace) -> Any:
    return client.call("GET", f"/api/v1/jobs/{args.job_id}/runs?limit={args.limit}")


def _schedule_changes(args: argparse.Namespace) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if args.begin is not None:
        changes["begin_time"] = args.begin
    if args.end is not None:
        changes["end_time"] = None if args.end.lower() == "none" else args.end
    if args.every is not None:
        changes["repeat_period_seconds"] = (
            None if args.every.lower() == "once" else _int("--every", args.every)
        )
    if args.week_days is not None:
        changes["week_days"] = _list_of(args.week_days, str)
    if args.every_nth_day is not None:
        changes["days_repeat_period"] = args.every_nth_day
    if args.months is not None:
        changes["months"] = [_int("--months", m) for m in _list_of(args.months, str)]
    if args.day_in_month is not None:
        changes["day_in_month"] = args.day_in_month
    if not changes:
        raise CliError(
            "give at least one of --begin, --end, --every, --week-days, "
            "--every-nth-day, --months, --day-in-month"
        )
    return changes


def _list_of(raw: str, kind: type[str]) -> list[str]:
    if raw.strip().lower() == "all":
        return []
    return [kind(part.strip()) for part in raw.split(",") if part.strip()]


def _int(option: str, raw: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise CliError(f"{option}: not a number: {raw!r}") from None


class _Client:
    def __init__(self, base_url: str, token: str) -> None:
        self._base = base_url.rstrip("/")
        self._token = token

    def call(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode("utf-8")
        request = urllib.request.Request(  # noqa: S310 - the URL is the operator's
            self._base + path, data=data, method=method
        )
        request.add_header("Authorization", f"Bearer {self._token}")
        request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(  # noqa: S310
                request, timeout=_TIMEOUT_SECONDS
            ) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            raise CliError(_api_error(exc)) from None
        except (urllib.error.URLError, OSError) as exc:
            raise CliError(f"service not reachable at {self._base}: {exc}") from None


def _api_error(exc: urllib.error.HTTPError) -> str:
    try:
        error = json.loads(exc.read())["error"]
    except (ValueError, KeyError, TypeError):
        return f"HTTP {exc.code}"
    return f"{error['message']} ({error['id']}, HTTP {exc.code})"


def _token(config: Config) -> str:
    token = admin_token(config)
    if not token:
        raise CliError("no admin token: set auth.admin_token or start the service once")
    return token


def _render(result: Any) -> str:
    if isinstance(result, dict) and "jobs" in result:
        return "\n".join(_job_line(job) for job in result["jobs"])
    if isinstance(result, dict) and "runs" in result:
        return "\n".join(_run_line(run) for run in result["runs"]) or "no runs yet"
    if isinstance(result, dict) and "run" in result:
        return _run_line(result["run"]) if result["run"] else "not started"
    if isinstance(result, dict) and "schedule_text" in result:
        return _job_detail(result)
    return json.dumps(result, ensure_ascii=False, indent=2)


def _job_line(job: dict[str, Any]) -> str:
    state = "enabled " if job["enabled"] else "disabled"
    return f"{job['id']:<27} {state} {job['schedule_text']}"


def _job_detail(job: dict[str, Any]) -> str:
    last = job["last_run"]
    lines = [
        f"{job['id']}: {job['title']}",
        f"  enabled:  {'yes' if job['enabled'] else 'no'}",
        f"  schedule: {job['schedule_text']}",
        f"  next run: {job['next_run_at'] or '-'}",
        f"  last run: {_run_line(last) if last else '-'}",
    ]
    return "\n".join(lines)


def _run_line(run: dict[str, Any]) -> str:
    outcome = run["outcome"] or "running"
    counters = " ".join(f"{k}={v}" for k, v in sorted(run["counters"].items()))
    text = f"#{run['id']} {run['scheduled_for']} {run['trigger']:<8} {outcome}"
    if counters:
        text += f" {counters}"
    if run["message"]:
        text += f" - {run['message'][:200]}"
    return text
