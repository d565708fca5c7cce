"""Realistic CDR rows built from each format's documentation.

Master.csv follows cdr_csv.c's column order (18 columns, or 21 with
`newcdrcolumns=yes`). `transfer_chain` is seed 004's example: a call to the line
74952293042 from 79255283744, answered by Белкина (201), consultative transfer to
Шевченко (202), who continues the conversation.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime, timedelta

from jobs.cdr_loader.sources.csv_master import CLASSIC, NEW_COLUMNS

CLIENT = "79255283744"
LINE = "74952293042"


def cdr(
    *,
    start: datetime,
    src: str,
    dst: str,
    channel: str,
    dstchannel: str,
    billsec: int,
    ring: int = 5,
    disposition: str = "ANSWERED",
    uniqueid: str,
    linkedid: str = "",
    sequence: int = 0,
    lastapp: str = "Dial",
    userfield: str = "",
) -> dict[str, str]:
    answered = disposition == "ANSWERED"
    answer = start + timedelta(seconds=ring) if answered else None
    end = start + timedelta(seconds=ring + (billsec if answered else 0))
    fmt = "%Y-%m-%d %H:%M:%S"
    return {
        "accountcode": "",
        "src": src,
        "dst": dst,
        "dcontext": "from-internal" if len(src) <= 4 else "from-trunk",
        "clid": f'"{src}" <{src}>',
        "channel": channel,
        "dstchannel": dstchannel,
        "lastapp": lastapp,
        "lastdata": f"{dstchannel.split('-')[0]},30,tT" if dstchannel else "",
        "start": start.strftime(fmt),
        "answer": answer.strftime(fmt) if answer else "",
        "end": end.strftime(fmt),
        "duration": str(ring + (billsec if answered else 0)),
        "billsec": str(billsec if answered else 0),
        "disposition": disposition,
        "amaflags": "DOCUMENTATION",
        "uniqueid": uniqueid,
        "userfield": userfield,
        "peeraccount": "",
        "linkedid": linkedid or uniqueid,
        "sequence": str(sequence),
    }


def transfer_chain(start: datetime, base: int = 1700000000) -> list[dict[str, str]]:
    first = f"{base}.1"
    return [
        cdr(start=start, src=CLIENT, dst="201", channel="PJSIP/trunk-00000001",
            dstchannel="PJSIP/201-00000002", billsec=40, uniqueid=first,
            sequence=1, userfield=f"/var/spool/asterisk/monitor/{first}.mp3"),
        cdr(start=start + timedelta(seconds=45), src="201", dst="202",
            channel="PJSIP/201-00000003", dstchannel="PJSIP/202-00000004",
            billsec=10, uniqueid=f"{base}.3", linkedid=first, sequence=2),
        cdr(start=start + timedelta(seconds=60), src=CLIENT, dst="202",
            channel="PJSIP/trunk-00000001", dstchannel="PJSIP/202-00000004",
            billsec=120, ring=0, uniqueid=first, linkedid=first, sequence=3),
    ]  # fmt: skip


def day(
    start: datetime,
    calls: int,
    *,
    seed_base: int = 1700000000,
    clients: int = 9_000_000,
) -> Iterator[dict[str, str]]:
    """Calls 3 s apart: incoming answered, missed, outgoing, internal in turn,
    with external numbers drawn in turn from a pool of `clients`."""
    for i in range(calls):
        t = start + timedelta(seconds=3 * i)
        uid = f"{seed_base + i}.{i}"
        ext = str(200 + i % 50)
        client = f"7916{1000000 + i % clients:07d}"
        kind = i % 4
        if kind == 0:
            yield cdr(start=t, src=client, dst=ext, channel=f"PJSIP/trunk-{i:08x}",
                      dstchannel=f"PJSIP/{ext}-{i:08x}", billsec=30 + i % 90,
                      uniqueid=uid, sequence=1)  # fmt: skip
        elif kind == 1:
            yield cdr(start=t, src=client, dst=ext, channel=f"PJSIP/trunk-{i:08x}",
                      dstchannel=f"PJSIP/{ext}-{i:08x}", billsec=0, ring=20,
                      disposition="NO ANSWER", uniqueid=uid, sequence=1)  # fmt: skip
        elif kind == 2:
            yield cdr(start=t, src=ext, dst=client, channel=f"PJSIP/{ext}-{i:08x}",
                      dstchannel=f"PJSIP/trunk-{i:08x}", billsec=15 + i % 60,
                      uniqueid=uid, sequence=1)  # fmt: skip
        else:
            yield cdr(start=t, src=ext, dst="299", channel=f"PJSIP/{ext}-{i:08x}",
                      dstchannel=f"PJSIP/299-{i:08x}", billsec=5, uniqueid=uid,
                      sequence=1)  # fmt: skip


def master_csv(rows: list[dict[str, str]], *, new_columns: bool = True) -> str:
    names = NEW_COLUMNS if new_columns else CLASSIC
    out = io.StringIO()
    # cdr_csv quotes every string field.
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n")
    for row in rows:
        writer.writerow([row[name] for name in names])
    return out.getvalue()
