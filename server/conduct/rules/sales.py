"""Sales and ledger rules: month-end spikes, quick reversals, sales without the qualification,
bursts after a policy item and amounts just under an approval limit."""

from __future__ import annotations

from typing import Any

import numpy as np

from server.conduct.data import BankData, Columns, local_hour
from server.conduct.rules.base import (
    Reading,
    _cached,
    _day_iso,
    _days_to_month_end,
    _ledger_items,
    _pct,
    _per_rm,
    _rows,
    _window_ledger,
    _yuan,
)


# 1 -------------------------------------------------------------------------------------------------
def _month_end_measure(data: BankData, p: dict[str, Any]) -> Reading:
    led = _window_ledger(data, p["window_days"])
    end = _days_to_month_end(led.day) <= p["last_days"]
    late = end & (local_hour(led.ts) >= p["late_hour"])
    total = _per_rm(led.rm, data.n, led.amount.astype(np.float64))
    count = _per_rm(led.rm, data.n)
    at_end = _per_rm(led.rm, data.n, np.where(end, led.amount, 0).astype(np.float64))
    late_n = _per_rm(led.rm, data.n, late.astype(np.float64))
    end_n = _per_rm(led.rm, data.n, end.astype(np.float64))
    # by count, not amount: one large deal on the 30th is no pattern; many small ones are. An entry
    # booked on a month's last days after hours (the evening before the books close) weighs
    # 1 + late_weight: ordinary month-end business is booked in the day.
    value = np.where(
        count >= p["min_entries"], (end_n + p["late_weight"] * late_n) / np.maximum(count, 1), np.nan
    )
    return Reading(
        value,
        detail={
            "late": late_n,
            "at_end": at_end,
            "end_n": end_n,
            "count": count,
            "amount_share": at_end / np.maximum(total, 1),
        },
    )


def _month_end_explain(rd: Reading, r: int, med: float, p: dict[str, Any]) -> str:
    return (
        f"近{p['window_days']}天{int(rd.detail['count'][r])}笔新增业务中有{int(rd.detail['end_n'][r])}笔"
        f"（{_pct(rd.detail['end_n'][r] / max(rd.detail['count'][r], 1))}）记在月末最后{p['last_days']}天，"
        f"金额占{_pct(rd.detail['amount_share'][r])}，其中{int(rd.detail['late'][r])}笔在{p['late_hour']}点后入账；"
        f"夜间入账加权后月末集中度{_pct(rd.value[r])}（同组中位数{_pct(med)}）。"
    )


def _month_end_evidence(data: BankData, p: dict[str, Any], r: int) -> list[dict[str, Any]]:
    led = data.ledger
    first = data.as_of.toordinal() - p["window_days"] + 1
    mask = (led.day >= first) & (led.amount > 0) & ~led.adj & (_days_to_month_end(led.day) <= p["last_days"])
    return _ledger_items(
        data,
        led,
        _rows(data, led, r, mask),
        lambda i: (
            f"月末入账新增业务 {_yuan(led.amount[i])}"
            + ("（夜间）" if local_hour(led.ts[i : i + 1])[0] >= p["late_hour"] else "")
        ),
    )


# 2 -------------------------------------------------------------------------------------------------
@_cached
def _reversal_pairs(data: BankData, p: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """(adjustment row positions, matched) for negative adjustments in the window that undo new
    business of the same customer and product booked within `within_days` before."""
    led = data.ledger
    first = data.as_of.toordinal() - p["window_days"] + 1
    sales = np.flatnonzero((led.amount > 0) & ~led.adj)
    backs = np.flatnonzero((led.amount < 0) & led.adj & (led.day >= first))
    if len(sales) == 0 or len(backs) == 0:
        return backs, np.zeros(len(backs), dtype=bool)
    keys = np.stack([led.rm, led.customer, led.product], axis=1)
    _, key = np.unique(keys, axis=0, return_inverse=True)
    key = key.ravel().astype(np.int64)
    base = int(led.day.min()) - 400
    span = 1 << 20
    comp = np.sort(key[sales] * span + (led.day[sales] - base))
    lo = np.searchsorted(comp, key[backs] * span + (led.day[backs] - p["within_days"] - base), "left")
    hi = np.searchsorted(comp, key[backs] * span + (led.day[backs] - base), "right")
    return backs, hi > lo


def _reversal_measure(data: BankData, p: dict[str, Any]) -> Reading:
    led = _window_ledger(data, p["window_days"])
    total = _per_rm(led.rm, data.n, led.amount.astype(np.float64))
    backs, matched = _reversal_pairs(data, p)
    b = backs[matched]
    reversed_ = _per_rm(data.ledger.rm[b], data.n, -data.ledger.amount[b].astype(np.float64))
    count = _per_rm(data.ledger.rm[b], data.n)
    value = np.where(total > 0, reversed_ / np.maximum(total, 1), np.nan)
    return Reading(value, gate=count >= p["min_count"], detail={"count": count, "amount": reversed_})


def _reversal_explain(rd: Reading, r: int, med: float, p: dict[str, Any]) -> str:
    return (
        f"近{p['window_days']}天有{int(rd.detail['count'][r])}笔新增业务在入账后{p['within_days']}天内被冲回，"
        f"合计{_yuan(rd.detail['amount'][r])}，占新增业务的{_pct(rd.value[r])}（同组中位数{_pct(med)}）。"
    )


def _reversal_evidence(data: BankData, p: dict[str, Any], r: int) -> list[dict[str, Any]]:
    backs, matched = _reversal_pairs(data, p)
    led = data.ledger
    mine = backs[matched & (led.rm[backs] == r)]
    return _ledger_items(data, led, mine, lambda i: f"冲回 {_yuan(-led.amount[i])}")


# 3 -------------------------------------------------------------------------------------------------
def _unqualified_mask(data: BankData, led: Columns) -> np.ndarray:
    if not data.required_qual or led.n == 0:
        return np.zeros(led.n, dtype=bool)
    quals = sorted(set(data.required_qual.values()))
    qpos = {q: i for i, q in enumerate(quals)}
    top = int(max(led.product.max(), max(data.required_qual))) + 1
    need = np.full(top + 1, -1, dtype=np.int64)
    for pid, q in data.required_qual.items():
        need[pid] = qpos[q]
    has = np.array([[q in held for q in quals] for held in data.quals], dtype=bool).reshape(
        data.n, len(quals)
    )
    q_of = need[np.clip(led.product, 0, top)]
    q_of[led.product < 0] = -1
    lacking = np.zeros(led.n, dtype=bool)
    sel = q_of >= 0
    lacking[sel] = ~has[led.rm[sel], q_of[sel]]
    return lacking


def _unqualified_measure(data: BankData, p: dict[str, Any]) -> Reading:
    led = _window_ledger(data, p["window_days"])
    lacking = _unqualified_mask(data, led)
    return Reading(
        _per_rm(led.rm[lacking], data.n),
        detail={"amount": _per_rm(led.rm[lacking], data.n, led.amount[lacking].astype(np.float64))},
    )


def _unqualified_explain(rd: Reading, r: int, med: float, p: dict[str, Any]) -> str:
    return (
        f"近{p['window_days']}天销售了{int(rd.value[r])}笔需要资格、而本人未持有相应资格的产品，"
        f"合计{_yuan(rd.detail['amount'][r])}。"
    )


def _unqualified_evidence(data: BankData, p: dict[str, Any], r: int) -> list[dict[str, Any]]:
    led = data.ledger
    first = data.as_of.toordinal() - p["window_days"] + 1
    base = (led.day >= first) & (led.amount > 0) & ~led.adj
    lacking = np.zeros(led.n, dtype=bool)
    lacking[base] = _unqualified_mask(data, led.where(base))
    return _ledger_items(
        data,
        led,
        _rows(data, led, r, lacking),
        lambda i: (
            f"未持证销售（需{data.required_qual.get(int(led.product[i]), '?')}） {_yuan(led.amount[i])}"
        ),
    )


# 4 -------------------------------------------------------------------------------------------------
@_cached
def _policy_ratios(data: BankData, p: dict[str, Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    led = _window_ledger(data, p["window_days"])
    total = _per_rm(led.rm, data.n, led.amount.astype(np.float64))
    expected = total * p["after_days"] / p["window_days"]
    best = np.full(data.n, np.nan)
    second = np.full(data.n, np.nan)
    which = np.full(data.n, -1, dtype=np.int64)
    entries = np.zeros(data.n)
    first = data.as_of.toordinal() - p["window_days"] + 1
    for k, (day, _item, _title) in enumerate(data.policies):
        if day < first or day > data.as_of.toordinal() - 1:
            continue
        inside = (led.day >= day) & (led.day < day + p["after_days"])
        after = _per_rm(led.rm[inside], data.n, led.amount[inside].astype(np.float64))
        n_after = _per_rm(led.rm[inside], data.n)
        ratio = np.where(expected > 0, after / np.maximum(expected, 1), np.nan)
        better = np.isfinite(ratio) & ~(ratio <= best)
        runner = np.isfinite(ratio) & ~better & ~(ratio <= second)
        second = np.where(better, best, np.where(runner, ratio, second))
        best = np.where(better, ratio, best)
        which = np.where(better, k, which)
        entries = np.where(better, n_after, entries)
    # one lucky week is noise; an RM who piles in after policy after policy is the pattern
    typical = np.where(np.isfinite(second), (best + second) / 2, best)
    return typical, which, entries


def _policy_measure(data: BankData, p: dict[str, Any]) -> Reading:
    best, which, entries = _policy_ratios(data, p)
    return Reading(best, gate=entries >= p["min_entries"], detail={"policy": which.astype(np.float64)})


def _policy_explain(rd: Reading, r: int, med: float, p: dict[str, Any]) -> str:
    return (
        f"利好政策发布后{p['after_days']}天内新增业务平均达到平时同期的{rd.value[r]:.1f}倍（取最突出的两次）"
        f"（同组中位数{med:.1f}倍），业务“一股脑儿”集中上量。"
    )


def _policy_evidence(data: BankData, p: dict[str, Any], r: int) -> list[dict[str, Any]]:
    best, which, _entries = _policy_ratios(data, p)
    if which[r] < 0:
        return []
    day, item_id, title = data.policies[int(which[r])]
    led = data.ledger
    mask = (led.day >= day) & (led.day < day + p["after_days"]) & (led.amount > 0) & ~led.adj
    items = [
        {
            "type": "intel",
            "id": item_id,
            "at": _day_iso(day),
            "day": _day_iso(day),
            "label": f"利好政策：{title[:60]}",
        }
    ]
    return items + _ledger_items(
        data, led, _rows(data, led, r, mask), lambda i: f"政策后新增业务 {_yuan(led.amount[i])}"
    )


# 5 -------------------------------------------------------------------------------------------------
def _band_mask(amount_cents: np.ndarray, p: dict[str, Any]) -> np.ndarray:
    yuan = amount_cents / 100
    mask = np.zeros(len(yuan), dtype=bool)
    for limit in p["limits_yuan"]:
        mask |= (yuan >= limit * (1 - p["band"])) & (yuan < limit)
    return mask


def _under_limit_measure(data: BankData, p: dict[str, Any]) -> Reading:
    led = _window_ledger(data, p["window_days"])
    band = _band_mask(led.amount, p)
    count = _per_rm(led.rm, data.n)
    inside = _per_rm(led.rm[band], data.n)
    value = np.where(count >= p["min_entries"], inside / np.maximum(count, 1), np.nan)
    return Reading(value, gate=inside >= p["min_count"], detail={"inside": inside, "count": count})


def _under_limit_explain(rd: Reading, r: int, med: float, p: dict[str, Any]) -> str:
    return (
        f"近{p['window_days']}天{int(rd.detail['count'][r])}笔新增业务中有{int(rd.detail['inside'][r])}笔"
        f"（{_pct(rd.value[r])}）金额落在审批权限下方{_pct(p['band'])}以内（同组中位数{_pct(med)}），疑似拆分规避审批。"
    )


def _under_limit_evidence(data: BankData, p: dict[str, Any], r: int) -> list[dict[str, Any]]:
    led = data.ledger
    first = data.as_of.toordinal() - p["window_days"] + 1
    mask = (led.day >= first) & (led.amount > 0) & ~led.adj & _band_mask(led.amount, p)
    return _ledger_items(
        data, led, _rows(data, led, r, mask), lambda i: f"贴近审批权限 {_yuan(led.amount[i])}"
    )
