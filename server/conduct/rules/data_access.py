"""Data-access rules: bursts of sensitive-data reveals, list browsing (hoarding) and bulk
transfers of customers."""

from __future__ import annotations

from typing import Any

import numpy as np

from server.conduct.data import DAY, BankData, local_hour
from server.conduct.rules.base import (
    MAX_EVIDENCE,
    Reading,
    _audit_items,
    _cached,
    _per_rm,
    _recent,
    _rows,
    _runs,
)


# 6 -------------------------------------------------------------------------------------------------
@_cached
def _reveal_flags(data: BankData, p: dict[str, Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rv = data.reveals
    recent = _recent(rv.ts, data, p["window_days"])
    burst = _runs(rv.rm, rv.ts, p["burst_minutes"] * 60, p["burst_count"]) & recent
    hour = local_hour(rv.ts)
    night = ((hour >= p["night_start"]) | (hour < p["night_end"])) & recent
    outside = ~rv.internal & recent
    return burst, night, outside, burst | night | outside


def _reveal_measure(data: BankData, p: dict[str, Any]) -> Reading:
    burst, night, outside, odd = _reveal_flags(data, p)
    rm = data.reveals.rm
    return Reading(
        _per_rm(rm[odd], data.n),
        detail={
            "burst": _per_rm(rm[burst], data.n),
            "night": _per_rm(rm[night], data.n),
            "outside": _per_rm(rm[outside], data.n),
        },
    )


def _reveal_explain(rd: Reading, r: int, med: float, p: dict[str, Any]) -> str:
    d = rd.detail
    return (
        f"近{p['window_days']}天有{int(rd.value[r])}次异常查看客户敏感信息（同组中位数{med:.0f}次）："
        f"{int(d['burst'][r])}次集中在{p['burst_minutes']}分钟内连续查看，{int(d['night'][r])}次在深夜，"
        f"{int(d['outside'][r])}次来自行外网络。"
    )


def _reveal_evidence(data: BankData, p: dict[str, Any], r: int) -> list[dict[str, Any]]:
    burst, night, outside, odd = _reveal_flags(data, p)
    rv = data.reveals
    idx = _rows(data, rv, r, odd)
    idx = idx[np.argsort(rv.ts[idx])]

    def label(i: int) -> str:
        why = [w for w, m in (("连续", burst), ("深夜", night), ("行外网络", outside)) if m[i]]
        return "查看客户敏感信息（" + "、".join(why) + "）"

    items = _audit_items(rv, idx, label)
    for item, i in zip(
        items,
        idx[: len(items)]
        if len(idx) <= MAX_EVIDENCE
        else idx[np.linspace(0, len(idx) - 1, MAX_EVIDENCE).astype(int)],
        strict=False,
    ):
        item["customer_id"] = int(rv.customer[i]) if rv.customer[i] > 0 else None
    return items


# 7 -------------------------------------------------------------------------------------------------
def _hoarding_measure(data: BankData, p: dict[str, Any]) -> Reading:
    ls = data.listing
    recent = _recent(ls.ts, data, p["window_days"])
    rows = _per_rm(ls.rm[recent], data.n, ls.rows[recent].astype(np.float64))
    return Reading(rows / np.maximum(data.book_size, p["min_book"]), detail={"rows": rows})


def _hoarding_explain(rd: Reading, r: int, med: float, p: dict[str, Any]) -> str:
    return (
        f"近{p['window_days']}天翻阅/导出客户名单{int(rd.detail['rows'][r])}条，相当于本人客户数的{rd.value[r]:.1f}倍"
        f"（同组中位数{med:.1f}倍），疑似离职前囤积客户资料。"
    )


def _hoarding_evidence(data: BankData, p: dict[str, Any], r: int) -> list[dict[str, Any]]:
    ls = data.listing
    idx = _rows(data, ls, r, _recent(ls.ts, data, p["window_days"]))
    idx = idx[np.argsort(ls.ts[idx])]
    return _audit_items(ls, idx, lambda i: f"翻阅客户名单 {int(ls.rows[i])} 条")


# 8 -------------------------------------------------------------------------------------------------
@_cached
def _move_window_counts(data: BankData, p: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    mv = data.moves
    recent = _recent(mv.ts, data, p["window_days"])
    if mv.n == 0:
        return np.zeros(0, dtype=np.int64), recent
    comp = mv.rm.astype(np.float64) * 1e11 + np.where(recent, mv.ts, -1e10)
    order = np.argsort(comp, kind="stable")
    sc = comp[order]
    counts = np.searchsorted(sc, sc + p["burst_days"] * DAY, "right") - np.arange(len(sc))
    out = np.zeros(mv.n, dtype=np.int64)
    out[order] = counts
    out[~recent] = 0
    return out, recent


def _moves_measure(data: BankData, p: dict[str, Any]) -> Reading:
    counts, recent = _move_window_counts(data, p)
    best = np.zeros(data.n)
    if data.moves.n:
        np.maximum.at(best, data.moves.rm, counts.astype(np.float64))
    mv = data.moves
    return Reading(
        best,
        detail={
            "in": _per_rm(mv.rm[recent & mv.inbound], data.n),
            "out": _per_rm(mv.rm[recent & ~mv.inbound], data.n),
        },
    )


def _moves_explain(rd: Reading, r: int, med: float, p: dict[str, Any]) -> str:
    return (
        f"{p['burst_days']}天内最多有{int(rd.value[r])}位客户批量转入或转出（同组中位数{med:.0f}位）；"
        f"近{p['window_days']}天转入{int(rd.detail['in'][r])}位、转出{int(rd.detail['out'][r])}位。"
    )


def _moves_evidence(data: BankData, p: dict[str, Any], r: int) -> list[dict[str, Any]]:
    mv = data.moves
    idx = _rows(data, mv, r, _recent(mv.ts, data, p["window_days"]))
    idx = idx[np.argsort(mv.ts[idx])]
    items = _audit_items(mv, idx, lambda i: "客户转入" if mv.inbound[i] else "客户转出", kind="ownership")
    for item in items:
        pos = idx[[int(j) for j in np.flatnonzero(mv.id[idx] == item["id"])][:1]]
        item["customer_id"] = int(mv.customer[pos[0]]) if len(pos) else None
    return items
