"""What every conduct rule shares: the Rule and its Reading, the per-bank cache of whole-bank
helpers, and the small helpers that count per RM and list evidence records."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import numpy as np

from server.conduct.data import DAY, BankData, Columns

EPOCH_ORD = date(1970, 1, 1).toordinal()
MAX_EVIDENCE = 20


@dataclass
class Reading:
    value: np.ndarray  # per RM; NaN where the rule does not apply (too little activity)
    gate: np.ndarray | None = None  # an extra condition for firing, per RM
    detail: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass(frozen=True)
class Rule:
    name: str
    title: str
    defaults: dict[str, Any]
    measure: Callable[[BankData, dict[str, Any]], Reading]
    explain: Callable[[Reading, int, float, dict[str, Any]], str]
    evidence: Callable[[BankData, dict[str, Any], int], list[dict[str, Any]]]
    audit_log: bool = False  # read from the audit log: refreshed within a minute of the event
    fmt: str = "count"  # share, ratio, count: how the value reads


def _cached(func: Callable) -> Callable:
    """Memoises a whole-bank helper on the BankData, keyed by its parameters, so listing the
    evidence of many RMs does not redo the bank-wide work."""

    def wrapper(data: BankData, *args: Any) -> Any:
        key = func.__name__ + repr(args)
        if key not in data.cache:
            data.cache[key] = func(data, *args)
        return data.cache[key]

    return wrapper


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(float(ts), UTC).replace(tzinfo=None).isoformat(timespec="seconds") + "Z"


def _day_iso(ordinal: int) -> str:
    return date.fromordinal(int(ordinal)).isoformat()


def _yuan(cents: float) -> str:
    yuan = cents / 100
    return f"{yuan / 10000:,.1f}万元" if abs(yuan) >= 10000 else f"{yuan:,.0f}元"


def _pct(x: float) -> str:
    return f"{x * 100:.0f}%"


def _per_rm(rm: np.ndarray, n: int, weights: np.ndarray | None = None) -> np.ndarray:
    if len(rm) == 0:
        return np.zeros(n)
    return np.bincount(rm, weights=weights, minlength=n).astype(np.float64)


def _recent(ts: np.ndarray, data: BankData, days: int) -> np.ndarray:
    return ts >= data.now_ts - days * DAY


def _window_ledger(data: BankData, days: int) -> Columns:
    led = data.ledger
    first_day = data.as_of.toordinal() - days + 1
    return led.where((led.day >= first_day) & (led.amount > 0) & ~led.adj)


def _days_to_month_end(ordinals: np.ndarray) -> np.ndarray:
    d = (ordinals - EPOCH_ORD).astype("datetime64[D]")
    nxt = (d.astype("datetime64[M]") + 1).astype("datetime64[D]")
    return (nxt - d).astype(np.int64)  # 1 on the month's last day


def _rows(data: BankData, table: Columns, r: int, mask: np.ndarray | None = None) -> np.ndarray:
    """Row positions of RM `r` in `table` (optionally only where mask)."""
    s = table.slice_of(r, data.n)
    idx = np.arange(s.start, s.stop)
    return idx[mask[s]] if mask is not None else idx


def _ledger_items(
    data: BankData, led: Columns, idx: np.ndarray, label: Callable[[int], str]
) -> list[dict[str, Any]]:
    order = idx[np.argsort(-np.abs(led.amount[idx]), kind="stable")][:MAX_EVIDENCE]
    return [
        {
            "type": "ledger",
            "id": int(led.id[i]),
            "at": _iso(led.ts[i]) if np.isfinite(led.ts[i]) else _day_iso(led.day[i]),
            "day": _day_iso(led.day[i]),
            "amount_cents": int(led.amount[i]),
            "customer_id": int(led.customer[i]) if led.customer[i] > 0 else None,
            "label": label(int(i)),
        }
        for i in sorted(order, key=lambda i: led.day[i])
    ]


def _audit_items(
    table: Columns, idx: np.ndarray, label: Callable[[int], str], kind: str = "audit"
) -> list[dict[str, Any]]:
    idx = (
        idx[:MAX_EVIDENCE]
        if len(idx) <= MAX_EVIDENCE
        else idx[np.linspace(0, len(idx) - 1, MAX_EVIDENCE).astype(int)]
    )
    return [
        {"type": kind, "id": int(table.id[i]), "at": _iso(table.ts[i]), "label": label(int(i))} for i in idx
    ]


def _runs(rm: np.ndarray, ts: np.ndarray, width: float, k: int) -> np.ndarray:
    """True for rows inside a run of at least k rows of the same RM within `width` seconds."""
    if len(ts) == 0:
        return np.zeros(0, dtype=bool)
    order = np.lexsort((ts, rm))
    comp = rm[order].astype(np.float64) * 1e11 + ts[order]
    ends = np.searchsorted(comp, comp + width, "right")
    starts = np.flatnonzero(ends - np.arange(len(comp)) >= k)
    diff = np.zeros(len(comp) + 1, dtype=np.int64)
    np.add.at(diff, starts, 1)
    np.add.at(diff, ends[starts], -1)
    inside = np.cumsum(diff)[:-1] > 0
    out = np.zeros(len(ts), dtype=bool)
    out[order] = inside
    return out
