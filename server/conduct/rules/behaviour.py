"""Behaviour rules: claims without conversion, concentrated benefit overrides, box-ticking
visit records and volatile monthly results."""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np

from server.conduct.data import BankData, local_hour
from server.conduct.rules.base import (
    EPOCH_ORD,
    MAX_EVIDENCE,
    Reading,
    _audit_items,
    _cached,
    _iso,
    _pct,
    _per_rm,
    _recent,
    _rows,
    _runs,
    _yuan,
)


# 10 ------------------------------------------------------------------------------------------------
def _claims_measure(data: BankData, p: dict[str, Any]) -> Reading:
    cl = data.claims
    recent = _recent(cl.ts, data, p["window_days"])
    count = _per_rm(cl.rm[recent], data.n)
    won = _per_rm(cl.rm[recent & cl.won], data.n)
    conversion = np.where(count > 0, won / np.maximum(count, 1), np.nan)
    gate = (count >= p["min_claims"]) & (np.nan_to_num(conversion, nan=1.0) <= p["max_conversion"])
    return Reading(count, gate=gate, detail={"won": won, "conversion": conversion})


def _claims_explain(rd: Reading, r: int, med: float, p: dict[str, Any]) -> str:
    return (
        f"近{p['window_days']}天从商机池认领{int(rd.value[r])}个商机（同组中位数{med:.0f}个），"
        f"仅成交{int(rd.detail['won'][r])}个，转化率{_pct(float(np.nan_to_num(rd.detail['conversion'][r])))}，疑似“掐尖”占坑。"
    )


def _claims_evidence(data: BankData, p: dict[str, Any], r: int) -> list[dict[str, Any]]:
    cl = data.claims
    idx = _rows(data, cl, r, _recent(cl.ts, data, p["window_days"]))
    idx = idx[np.argsort(cl.ts[idx])]
    return _audit_items(
        cl, idx, lambda i: "认领商机" + ("（已成交）" if cl.won[i] else "（未成交）"), kind="opportunity"
    )


# 11 ------------------------------------------------------------------------------------------------
def _override_measure(data: BankData, p: dict[str, Any]) -> Reading:
    ov = data.overrides
    recent = _recent(ov.ts, data, p["window_days"])
    return Reading(
        _per_rm(ov.rm[recent], data.n),
        detail={
            "benefit": _per_rm(ov.rm[recent & (ov.kind == 0)], data.n),
            "cap": _per_rm(ov.rm[recent & (ov.kind == 1)], data.n),
            "amount": _per_rm(ov.rm[recent], data.n, ov.amount[recent].astype(np.float64)),
        },
    )


def _override_explain(rd: Reading, r: int, med: float, p: dict[str, Any]) -> str:
    d = rd.detail
    return (
        f"近{p['window_days']}天有{int(rd.value[r])}次例外调整对本人有利（同组中位数{med:.0f}次）："
        f"{int(d['benefit'][r])}次共享效益调整（合计{_yuan(d['amount'][r])}），{int(d['cap'][r])}次突破认领上限改派。"
    )


def _override_evidence(data: BankData, p: dict[str, Any], r: int) -> list[dict[str, Any]]:
    ov = data.overrides
    idx = _rows(data, ov, r, _recent(ov.ts, data, p["window_days"]))
    idx = idx[np.argsort(ov.ts[idx])]
    items = []
    for i in idx[:MAX_EVIDENCE]:
        benefit = ov.kind[i] == 0
        items.append(
            {
                "type": "benefit_adjustment" if benefit else "audit",
                "id": int(ov.id[i]),
                "at": _iso(ov.ts[i]),
                "label": f"共享效益调整 {_yuan(ov.amount[i])}" if benefit else "突破认领上限改派商机",
            }
        )
    return items


# 12 ------------------------------------------------------------------------------------------------
@_cached
def _visit_flags(data: BankData, p: dict[str, Any]) -> tuple[np.ndarray, ...]:
    vs = data.visits
    recent = _recent(vs.ts, data, p["window_days"])
    thin = ~vs.has_location & ~vs.has_next_step
    hour = local_hour(vs.ts)
    off = (hour < p["work_start"]) | (hour >= p["work_end"])
    bulk = _runs(vs.rm, np.nan_to_num(vs.created), p["batch_minutes"] * 60, p["batch_size"])
    return recent, thin & recent, off & recent, bulk & recent


def _visits_measure(data: BankData, p: dict[str, Any]) -> Reading:
    recent, thin, off, bulk = _visit_flags(data, p)
    rm = data.visits.rm
    count = _per_rm(rm[recent], data.n)
    odd = _per_rm(rm[thin | off | bulk], data.n)
    value = np.where(count >= p["min_visits"], odd / np.maximum(count, 1), np.nan)
    return Reading(
        value,
        detail={
            "count": count,
            "thin": _per_rm(rm[thin], data.n),
            "off": _per_rm(rm[off], data.n),
            "bulk": _per_rm(rm[bulk], data.n),
        },
    )


def _visits_explain(rd: Reading, r: int, med: float, p: dict[str, Any]) -> str:
    d = rd.detail
    return (
        f"近{p['window_days']}天登记的{int(d['count'][r])}次拜访中{_pct(rd.value[r])}像是应付（同组中位数{_pct(med)}）："
        f"{int(d['thin'][r])}次无地点无下一步，{int(d['off'][r])}次在工作时间外，{int(d['bulk'][r])}次为短时间内批量补录。"
    )


def _visits_evidence(data: BankData, p: dict[str, Any], r: int) -> list[dict[str, Any]]:
    recent, thin, off, bulk = _visit_flags(data, p)
    vs = data.visits
    idx = _rows(data, vs, r, thin | off | bulk)
    idx = idx[np.argsort(vs.ts[idx])]

    def label(i: int) -> str:
        why = [w for w, m in (("无地点无下一步", thin), ("非工作时间", off), ("批量补录", bulk)) if m[i]]
        return "拜访记录（" + "、".join(why) + "）"

    return _audit_items(vs, idx, label, kind="visit")


# 13 ------------------------------------------------------------------------------------------------
@_cached
def _monthly(data: BankData) -> tuple[np.ndarray, Any]:
    """Net new business per RM for the 24 complete months before as_of's month, and whether the RM
    had any ledger entry in the first three of them (tenure long enough to judge)."""
    led = data.ledger
    months = 24
    cur = data.as_of.year * 12 + data.as_of.month - 1
    d = (led.day - EPOCH_ORD).astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) + 1970 * 12
    k = d - (cur - months)
    ok = (k >= 0) & (k < months)
    mat = np.zeros((data.n, months))
    if ok.any():
        np.add.at(mat, (led.rm[ok], k[ok]), led.amount[ok].astype(np.float64))
    early = (np.abs(mat[:, :3]) > 0).any(axis=1)
    return mat, early


def _seasonal_design(harmonics: int) -> np.ndarray:
    t = np.arange(24)
    cols = [np.ones(24)]
    for h in range(1, harmonics + 1):
        cols += [np.cos(2 * np.pi * h * t / 12), np.sin(2 * np.pi * h * t / 12)]
    return np.stack(cols, axis=1)


def _volatility_measure(data: BankData, p: dict[str, Any]) -> Reading:
    """Residual spread of log monthly new business around the RM's own smooth yearly curve (a level
    plus `harmonics` yearly harmonics, least squares over 24 months): a seasonal business repeats a
    smooth year and is absorbed by the curve; erratic months are not. The peer comparison (z) is
    done by the engine as for every rule."""
    mat, early = _monthly(data)
    x = np.clip(mat, 0, None)
    level = np.median(x, axis=1)
    k = np.maximum(level * 0.1, 100_00)  # damps empty months of a small book
    logs = np.log(x + k[:, None])
    design = _seasonal_design(p["harmonics"])
    beta, *_ = np.linalg.lstsq(design, logs.T, rcond=None)
    resid = logs.T - design @ beta
    value = np.sqrt((resid**2).sum(axis=0) / (24 - design.shape[1]))
    value = np.where(early & (level > 0), value, np.nan)
    cv = np.std(x, axis=1) / np.maximum(np.mean(x, axis=1), 1)
    return Reading(value, detail={"cv": cv})


def _volatility_explain(rd: Reading, r: int, med: float, p: dict[str, Any]) -> str:
    return (
        f"剔除本人季节规律后，近24个月新增业务的月度波动（对数残差）为{rd.value[r]:.2f}（同组中位数{med:.2f}），"
        f"月度业绩大起大落（变异系数{rd.detail['cv'][r]:.2f}）。"
    )


def _volatility_evidence(data: BankData, p: dict[str, Any], r: int) -> list[dict[str, Any]]:
    mat, _ = _monthly(data)
    cur = date(data.as_of.year, data.as_of.month, 1)
    items = []
    for k in range(24):
        back = 24 - k
        y, m = divmod(cur.year * 12 + cur.month - 1 - back, 12)
        items.append(
            {
                "type": "month",
                "id": None,
                "at": f"{y:04d}-{m + 1:02d}-01",
                "amount_cents": int(mat[r, k]),
                "label": f"{y}年{m + 1}月新增业务 {_yuan(mat[r, k])}",
            }
        )
    return items
