"""Contact rules: customers sharing a phone or e-mail (with each other or with staff), and
business moved to firms related to the RM through those contacts."""

from __future__ import annotations

from typing import Any

import numpy as np

from server.conduct.data import BankData, Columns
from server.conduct.rules.base import (
    MAX_EVIDENCE,
    Reading,
    _audit_items,
    _cached,
    _ledger_items,
    _per_rm,
    _recent,
    _rows,
    _yuan,
)


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


@_cached
def _staff_contact_holder(data: BankData, which: str = "phone") -> np.ndarray:
    """Per row of the contact table, the RM (position) a staff contact detail is charged to; -1 on
    rows without one. The staff member whose own phone or mailbox it is receives the customer's
    calls, statements and notices, so it is theirs, wherever the customer is booked: a colleague's
    customer whose decision maker gives the RM's mailbox is the RM's doing, not the colleague's.
    Details of staff outside oversight (not an RM of the run) stay with the owning RM."""
    table, values, staff = _contact_table(data, which)
    holder = np.full(table.n, -1, dtype=np.int64)
    for i in np.flatnonzero(_staff_contact_rows(data, which)):
        r = data.index_of(staff[int(values[i])])
        holder[i] = r if r is not None else int(table.rm[i])
    return holder


def _shared_reading(data: BankData, p: dict[str, Any], which: str) -> Reading:
    table, _values, _staff = _contact_table(data, which)
    if table.n == 0:
        return Reading(np.zeros(data.n), detail={"unrelated": np.zeros(data.n), "staff": np.zeros(data.n)})
    flagged = _shared_customers(data, which)
    holder = _staff_contact_holder(data, which)

    def customers_per_rm(rm: np.ndarray, customer: np.ndarray) -> np.ndarray:
        if len(rm) == 0:
            return np.zeros(data.n)
        pairs = np.unique(np.stack([rm, customer], axis=1), axis=0)
        return _per_rm(pairs[:, 0].astype(np.int64), data.n)

    unrelated = customers_per_rm(table.rm[flagged], table.customer[flagged])
    staff = holder >= 0
    with_staff = customers_per_rm(holder[staff], table.customer[staff])
    # a customer reachable only through a bank employee's own number weighs `staff_weight` customers
    value = unrelated + p["staff_weight"] * with_staff
    return Reading(value, detail={"unrelated": unrelated, "staff": with_staff})


def _shared_evidence_of(data: BankData, r: int, which: str) -> list[dict[str, Any]]:
    table, values, staff_of = _contact_table(data, which)
    flagged, holder = _shared_customers(data, which), _staff_contact_holder(data, which)
    what, short = ("联系电话", "电话") if which == "phone" else ("电子邮箱", "邮箱")
    own_id = int(data.rm_ids[r])
    items: dict[int, dict[str, Any]] = {}
    for i in np.flatnonzero(holder == r):
        c = int(table.customer[i])
        whose = "本人" if staff_of.get(int(values[i])) == own_id else "其他员工"
        book = "" if int(table.rm[i]) == r else "他人名下"
        items.setdefault(
            c,
            {
                "type": "customer",
                "id": c,
                "customer_id": c,
                "at": None,
                "label": f"{book}客户{what}与{whose}登记{short}相同",
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
        parts.append(
            f"{int(rd.detail['staff'][r])}位客户登记的联系电话是本行员工的电话（本人的，含他人名下客户；或其他非客户经理员工的）"
        )
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
            f"{int(rd.detail['staff'][r])}位客户（含决策人）登记的电子邮箱是本行员工的邮箱（本人的，含他人名下客户；或其他非客户经理员工的）"
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
    # a won pool claim is business the bank shared with everyone that the RM took to the family firm:
    # one is already a conflict of interest, so it weighs the floor (3) on its own;
    # new business booked on the firm needs three entries
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
