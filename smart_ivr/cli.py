"""`telebridge ivr preview NUMBER`: the menu a caller would hear, and why."""

from __future__ import annotations

import argparse
import json
from typing import Any
from urllib.parse import quote

from bridge.admin_client import add_client_options, call, failed
from bridge.cli import EXIT_OK, out


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    group = sub.add_parser(
        "ivr", help="the smart IVR", description="Inspect the smart IVR."
    )
    verbs = group.add_subparsers(title="commands", metavar="COMMAND")
    preview = verbs.add_parser(
        "preview",
        help="show the menu a caller would hear, with reasons",
        description="Ask the running service for the menu of a caller: offered "
        "employees with their scores and reasons, who was left out and why, the "
        "greeting fragments and the prompt audio.",
    )
    preview.add_argument("number", help="the caller's number, any format")
    preview.add_argument("--json", action="store_true", help="print the raw JSON")
    add_client_options(preview)
    preview.set_defaults(command=_preview)


def _preview(args: argparse.Namespace) -> int:
    path = f"/api/v1/ivr/preview?number={quote(args.number)}"
    status, answer = call(args, "GET", path)
    if status != 200:
        return failed(status, answer)
    if args.json:
        out(json.dumps(answer, ensure_ascii=False, indent=2))
    else:
        out(render(answer))
    return EXIT_OK


def render(menu: dict[str, Any]) -> str:
    kind = "new client" if menu["new_client"] else "known client"
    lines = [f"caller {menu['number'] or '(none)'}: {kind}"]
    if menu["fallback"]:
        lines.append(f"FALLBACK ({menu['fallback']}): emergency destination")
    lines.extend(
        f"  {e['digit']}  {e['extension']:<6} {e['name']}  ({e['reason']})"
        for e in menu["entries"]
    )
    lines.extend(
        f"  -  {s['employee']:<6} left out: {s['reason']}" for s in menu["skipped"]
    )
    dest = menu["destinations"]
    lines.append(f"no choice → {dest['default']}; failure → {dest['emergency']}")
    prompt = menu["prompt"]
    if prompt:
        lines.append(f"prompt: {prompt['path']}  {prompt['url']}")
        lines.extend(f"  «{fragment}»" for fragment in prompt["fragments"])
    return "\n".join(lines)
