"""The conduct rules (行为监控规则). Each is small and named: it measures one behaviour per RM from the
bank's own records (vectorised over every RM at once), says in Chinese what it saw, and lists the
records behind it. Whether a reading is unusual is decided in server/conduct/engine.py against the
RM's peer group (same grade and branch type) with robust statistics, plus the rule's absolute floor
(`min`), so a big book is not flagged for being big.

Every number below is a default an admin can override per rule (server/conduct/service.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import numpy as np

from server.conduct.data import DAY, BankData, Columns, local_hour

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


# 6 -------------------------------------------------------------------------------------------------
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


# 9 -------------------------------------------------------------------------------------------------
def _root(parent: dict[int, int], c: int) -> int:
    while parent[c] != c:
        parent[c] = parent[parent[c]]
        c = parent[c]
    return c


def _contact_table(data: BankData, which: str) -> tuple[Columns, np.ndarray, dict[int, int]]:
    """The customers' contact details of one kind, their integer keys and the staff's own ones."""
    if which == "email":
        return data.emails, data.emails.email, data.staff_emails
    return data.phones, data.phones.phone, data.staff_phones


@_cached
def _shared_customers(data: BankData, which: str = "phone") -> np.ndarray:
    """Row mask of the contact table: the phone (or e-mail) is shared by customers that no chain of
    links connects."""
    table, values, _staff = _contact_table(data, which)
    if table.n == 0:
        return np.zeros(0, dtype=bool)
    _, inv, counts = np.unique(values, return_inverse=True, return_counts=True)
    inv = inv.ravel()
    candidate = np.flatnonzero(counts[inv] >= 2)
    flagged = np.zeros(table.n, dtype=bool)
    groups: dict[int, list[int]] = {}
    for i in candidate:
        groups.setdefault(int(inv[i]), []).append(int(i))
    for rows in groups.values():
        customers = sorted({int(table.customer[i]) for i in rows})
        if len(customers) < 2:
            continue
        # customers joined by a chain of links (a family, a group of companies) count as one party
        parent = {c: c for c in customers}
        for a in customers:
            for b in customers:
                if a < b and (a, b) in data.links:
                    parent[_root(parent, a)] = _root(parent, b)
        if len({_root(parent, c) for c in customers}) < 2:
            continue
        flagged[np.array(rows, dtype=np.int64)] = True
    return flagged


@_cached
def _staff_contact_rows(data: BankData, which: str = "phone") -> np.ndarray:
    """Row mask of the contact table: the customer's (or its decision maker's) phone or e-mail is a
    staff member's own (user.phone / user.email), the owning RM's included."""
    table, values, staff = _contact_table(data, which)
    if table.n == 0 or not staff:
        return np.zeros(table.n, dtype=bool)
    return np.isin(values, np.fromiter(staff, dtype=np.int64))


def _shared_reading(data: BankData, p: dict[str, Any], which: str) -> Reading:
    table, _values, _staff = _contact_table(data, which)
    if table.n == 0:
        return Reading(np.zeros(data.n), detail={"unrelated": np.zeros(data.n), "staff": np.zeros(data.n)})
    flagged = _shared_customers(data, which)
    staff = _staff_contact_rows(data, which)

    def customers_per_rm(mask: np.ndarray) -> np.ndarray:
        if not mask.any():
            return np.zeros(data.n)
        pairs = np.unique(np.stack([table.rm[mask], table.customer[mask]], axis=1), axis=0)
        return _per_rm(pairs[:, 0].astype(np.int64), data.n)

    unrelated, with_staff = customers_per_rm(flagged), customers_per_rm(staff)
    # a customer reachable only through a bank employee's own number weighs `staff_weight` customers
    value = unrelated + p["staff_weight"] * with_staff
    return Reading(value, detail={"unrelated": unrelated, "staff": with_staff})


def _shared_evidence_of(data: BankData, r: int, which: str) -> list[dict[str, Any]]:
    table, values, staff_of = _contact_table(data, which)
    flagged, staff = _shared_customers(data, which), _staff_contact_rows(data, which)
    what, short = ("联系电话", "电话") if which == "phone" else ("电子邮箱", "邮箱")
    own_id = int(data.rm_ids[r])
    items: dict[int, dict[str, Any]] = {}
    for i in _rows(data, table, r, staff):
        c = int(table.customer[i])
        whose = "本人" if staff_of.get(int(values[i])) == own_id else "其他员工"
        items.setdefault(
            c,
            {
                "type": "customer",
                "id": c,
                "customer_id": c,
                "at": None,
                "label": f"客户{what}与{whose}登记{short}相同",
            },
        )
    for i in _rows(data, table, r, flagged):
        c = int(table.customer[i])
        items.setdefault(
            c, {"type": "customer", "id": c, "customer_id": c, "at": None, "label": f"与无关联客户共用{what}"}
        )
    return list(items.values())[:MAX_EVIDENCE]


def _shared_measure(data: BankData, p: dict[str, Any]) -> Reading:
    return _shared_reading(data, p, "phone")


def _shared_explain(rd: Reading, r: int, med: float, p: dict[str, Any]) -> str:
    parts = []
    if rd.detail["unrelated"][r]:
        parts.append(f"名下有{int(rd.detail['unrelated'][r])}位客户与其他无关联客户共用同一联系电话")
    if rd.detail["staff"][r]:
        parts.append(f"{int(rd.detail['staff'][r])}位客户登记的联系电话是本行员工（含本人）的电话")
    said = "；".join(parts) or "未发现共用联系方式"
    return f"{said}（加权计{rd.value[r]:.0f}，同组中位数{med:.0f}），需核实是否代客操作。"


def _shared_evidence(data: BankData, p: dict[str, Any], r: int) -> list[dict[str, Any]]:
    return _shared_evidence_of(data, r, "phone")


# 9b (e-mail) ---------------------------------------------------------------------------------------
def _email_measure(data: BankData, p: dict[str, Any]) -> Reading:
    return _shared_reading(data, p, "email")


def _email_explain(rd: Reading, r: int, med: float, p: dict[str, Any]) -> str:
    parts = []
    if rd.detail["unrelated"][r]:
        parts.append(
            f"名下有{int(rd.detail['unrelated'][r])}位客户（含决策人）与其他无关联客户共用同一电子邮箱"
        )
    if rd.detail["staff"][r]:
        parts.append(
            f"{int(rd.detail['staff'][r])}位客户（含决策人）登记的电子邮箱是本行员工（含本人）的邮箱"
        )
    said = "；".join(parts) or "未发现共用电子邮箱"
    return f"{said}（加权计{rd.value[r]:.0f}，同组中位数{med:.0f}），对账单、通知可能被员工截收，需核实是否代客操作。"


def _email_evidence(data: BankData, p: dict[str, Any], r: int) -> list[dict[str, Any]]:
    return _shared_evidence_of(data, r, "email")


# 8b (related firm) ---------------------------------------------------------------------------------
@_cached
def _related_firms(data: BankData) -> dict[int, set[int]]:
    """RM position -> the firms (对公客户) related to the RM: a customer that registers the RM's own
    phone or e-mail (on itself or a decision maker) is the RM or someone close who uses the RM's
    details; it and the customers linked to it (family, shareholder, group) are the RM's side, and
    the firms among them are related firms, whoever owns them."""
    side: dict[int, set[int]] = {}
    for which in ("phone", "email"):
        table, values, staff_of = _contact_table(data, which)
        for i in np.flatnonzero(_staff_contact_rows(data, which)):
            r = data.index_of(staff_of[int(values[i])])
            if r is not None:
                side.setdefault(r, set()).add(int(table.customer[i]))
    if not side:
        return {}
    neighbours: dict[int, set[int]] = {}
    for a, b in data.links:
        neighbours.setdefault(a, set()).add(b)
        neighbours.setdefault(b, set()).add(a)
    firms = {}
    for r, customers in side.items():
        reach = set(customers)
        for c in customers:
            reach |= neighbours.get(c, set())
        related = {c for c in reach if c in data.corporate}
        if related:
            firms[r] = related
    return firms


def _related_keys(data: BankData) -> np.ndarray:
    firms = _related_firms(data)
    return np.array(sorted(c * data.n + r for r, cs in firms.items() for c in cs), dtype=np.int64)


@_cached
def _related_rows(data: BankData, p: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """(claim rows, ledger rows) of business steered to a firm related to the RM in the window:
    pool claims the RM won for such a firm, new business the RM booked on one."""
    keys = _related_keys(data)
    cl, led = data.claims, data.ledger
    if len(keys) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    claim_ok = _recent(cl.ts, data, p["window_days"]) & cl.won & (cl.customer > 0)
    claims = np.flatnonzero(claim_ok & np.isin(cl.customer * data.n + cl.rm, keys))
    first = data.as_of.toordinal() - p["window_days"] + 1
    led_ok = (led.day >= first) & (led.amount > 0) & ~led.adj & (led.customer > 0)
    entries = np.flatnonzero(led_ok & np.isin(led.customer * data.n + led.rm, keys))
    return claims, entries


def _related_measure(data: BankData, p: dict[str, Any]) -> Reading:
    claims, entries = _related_rows(data, p)
    n_claims = _per_rm(data.claims.rm[claims], data.n)
    n_entries = _per_rm(data.ledger.rm[entries], data.n)
    amount = _per_rm(data.ledger.rm[entries], data.n, data.ledger.amount[entries].astype(np.float64))
    firms = _related_firms(data)
    n_firms = np.array([len(firms.get(r, ())) for r in range(data.n)], dtype=np.float64)
    # a won pool claim is business the bank shared with everyone and the RM took to the family firm
    value = p["claim_weight"] * n_claims + n_entries
    return Reading(
        value, detail={"claims": n_claims, "entries": n_entries, "amount": amount, "firms": n_firms}
    )


def _related_explain(rd: Reading, r: int, med: float, p: dict[str, Any]) -> str:
    d = rd.detail
    return (
        f"{int(d['firms'][r])}家企业客户登记了该客户经理本人的电话或邮箱（或与登记者有关联），疑为其本人或亲属的关联企业；"
        f"近{p['window_days']}天从商机池认领后落到这些企业的商机{int(d['claims'][r])}个，"
        f"在这些企业名下入账新增业务{int(d['entries'][r])}笔、合计{_yuan(d['amount'][r])}"
        f"（加权计{rd.value[r]:.0f}，同组中位数{med:.0f}），疑似把业务转移至关联企业。"
    )


def _related_evidence(data: BankData, p: dict[str, Any], r: int) -> list[dict[str, Any]]:
    firms = sorted(_related_firms(data).get(r, set()))
    items: list[dict[str, Any]] = [
        {
            "type": "customer",
            "id": c,
            "customer_id": c,
            "at": None,
            "label": "关联企业：登记了客户经理本人的联系方式（或与之关联）",
        }
        for c in firms[:5]
    ]
    claims, entries = _related_rows(data, p)
    cl = data.claims
    mine = claims[cl.rm[claims] == r]
    mine = mine[np.argsort(cl.ts[mine])]
    items += _audit_items(
        cl, mine, lambda i: f"认领商机后在关联企业（客户{int(cl.customer[i])}）成交", kind="opportunity"
    )
    led = data.ledger
    items += _ledger_items(
        data, led, entries[led.rm[entries] == r], lambda i: f"关联企业入账新增业务 {_yuan(led.amount[i])}"
    )
    return items[: MAX_EVIDENCE + 5]


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


RULES: list[Rule] = [
    Rule(
        "month_end_spike",
        "月末突击冲量",
        dict(
            window_days=180,
            last_days=2,
            late_hour=20,
            late_weight=2.0,
            min_entries=5,
            min=0.3,
            z=3.0,
            min_scale=0.05,
            weight=1.0,
        ),
        _month_end_measure,
        _month_end_explain,
        _month_end_evidence,
        fmt="share",
    ),
    Rule(
        "quick_reversal",
        "入账后短期冲回",
        dict(window_days=180, within_days=10, min_count=2, min=0.1, z=3.0, min_scale=0.03, weight=1.0),
        _reversal_measure,
        _reversal_explain,
        _reversal_evidence,
        fmt="share",
    ),
    Rule(
        "unqualified_sale",
        "无资格销售",
        dict(window_days=180, min=1, z=0.0, min_scale=0.5, weight=1.5),
        _unqualified_measure,
        _unqualified_explain,
        _unqualified_evidence,
    ),
    Rule(
        "policy_burst",
        "政策利好后集中上量",
        dict(window_days=180, after_days=7, min_entries=4, min=4.0, z=3.0, min_scale=0.5, weight=1.0),
        _policy_measure,
        _policy_explain,
        _policy_evidence,
        fmt="ratio",
    ),
    Rule(
        "under_limit",
        "金额贴近审批权限",
        dict(
            window_days=180,
            limits_yuan=[500_000, 1_000_000, 3_000_000, 5_000_000, 10_000_000],
            band=0.05,
            min_entries=5,
            min_count=3,
            min=0.12,
            z=3.0,
            min_scale=0.05,
            weight=1.0,
        ),
        _under_limit_measure,
        _under_limit_explain,
        _under_limit_evidence,
        fmt="share",
    ),
    Rule(
        "reveal_burst",
        "集中/深夜/行外查看敏感信息",
        dict(
            window_days=90,
            burst_minutes=10,
            burst_count=8,
            night_start=22,
            night_end=6,
            internal_networks=["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "127.0.0.0/8", "::1/128"],
            min=10,
            z=3.0,
            min_scale=2.0,
            weight=1.0,
        ),
        _reveal_measure,
        _reveal_explain,
        _reveal_evidence,
        audit_log=True,
    ),
    Rule(
        "data_hoarding",
        "批量翻阅/导出客户名单",
        dict(window_days=30, min_book=50, min=4.0, z=4.0, min_scale=0.3, weight=1.0),
        _hoarding_measure,
        _hoarding_explain,
        _hoarding_evidence,
        audit_log=True,
        fmt="ratio",
    ),
    Rule(
        "bulk_transfer",
        "客户批量转移",
        dict(window_days=90, burst_days=7, min=15, z=3.0, min_scale=2.0, weight=1.0),
        _moves_measure,
        _moves_explain,
        _moves_evidence,
    ),
    Rule(
        "shared_contact",
        "客户共用联系方式",
        dict(staff_weight=3.0, min=3, z=3.0, min_scale=1.0, weight=1.0),
        _shared_measure,
        _shared_explain,
        _shared_evidence,
    ),
    Rule(
        "shared_email",
        "客户共用电子邮箱",
        dict(staff_weight=3.0, min=3, z=3.0, min_scale=1.0, weight=1.0),
        _email_measure,
        _email_explain,
        _email_evidence,
    ),
    Rule(
        "related_transfer",
        "业务转移至关联企业",
        dict(window_days=180, claim_weight=2.0, min=3, z=3.0, min_scale=1.0, weight=1.2),
        _related_measure,
        _related_explain,
        _related_evidence,
    ),
    Rule(
        "cherry_picking",
        "商机认领多成交少",
        dict(window_days=180, min_claims=10, max_conversion=0.15, min=10, z=3.0, min_scale=2.0, weight=1.0),
        _claims_measure,
        _claims_explain,
        _claims_evidence,
    ),
    Rule(
        "override_concentration",
        "例外调整集中受益",
        dict(window_days=180, min=3, z=3.0, min_scale=1.0, weight=1.0),
        _override_measure,
        _override_explain,
        _override_evidence,
    ),
    Rule(
        "box_ticking",
        "拜访记录应付了事",
        dict(
            window_days=90,
            work_start=7,
            work_end=22,
            batch_minutes=10,
            batch_size=5,
            min_visits=10,
            min=0.5,
            z=3.0,
            min_scale=0.08,
            weight=0.8,
        ),
        _visits_measure,
        _visits_explain,
        _visits_evidence,
        fmt="share",
    ),
    Rule(
        "volatility",
        "业绩大起大落",
        dict(harmonics=2, min=0.65, z=3.0, min_scale=0.1, weight=0.8),
        _volatility_measure,
        _volatility_explain,
        _volatility_evidence,
        fmt="ratio",
    ),
]
RULES_BY_NAME = {rule.name: rule for rule in RULES}
AUDIT_LOG_RULES = [rule.name for rule in RULES if rule.audit_log]

SCORE_DEFAULTS: dict[str, Any] = {"min_peers": 12, "scale": 15.0, "alert_at": 60.0, "z_cap": 12.0}
