"""Sums over the performance ledger, the one read of it that the mirror and the performance page
share."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from sqlmodel import Session, col, func, select

from server.performance.models import PerformanceEntry


def ledger_sums(session: Session, rm_ids: list[int], start: date, end: date) -> dict[int, dict[str, int]]:
    """Per RM, the amount booked in [start, end) per entry kind (`kind`) and how many entries
    (`kind:count`). An RM or kind with nothing booked is absent: read with `.get(..., 0)`."""
    rows = session.exec(
        select(
            PerformanceEntry.rm_id,
            PerformanceEntry.kind,
            func.sum(PerformanceEntry.amount_cents),
            func.count(),
        )
        .where(
            col(PerformanceEntry.rm_id).in_(rm_ids),
            PerformanceEntry.booked_on >= start,
            PerformanceEntry.booked_on < end,
        )
        .group_by(col(PerformanceEntry.rm_id), col(PerformanceEntry.kind))
    ).all()
    out: dict[int, dict[str, int]] = defaultdict(dict)
    for rm_id, kind, amount, count in rows:
        out[rm_id][kind] = int(amount or 0)
        out[rm_id][kind + ":count"] = int(count)
    return dict(out)
