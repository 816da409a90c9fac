"""What the rules read, loaded set-based: one SELECT per source over the whole bank (or a window),
turned into numpy columns indexed by RM position. No query runs per RM or per row.

Times are kept as epoch seconds (UTC); the bank works on Beijing time, so hours and days that a rule
judges ("late at night", "the month's last days") are local (UTC+8)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import String, and_, func, or_, select, type_coerce
from sqlmodel import Session

from server.audit.models import AuditEntry
from server.customers.models import Contact, Customer, CustomerLink, CustomerVisit, OwnershipChange
from server.db import table_of
from server.intel.models import IntelItem
from server.opportunities.models import BenefitAdjustment, Opportunity, OpportunityTransition
from server.org.models import Branch, RmProfile, Role, User
from server.performance.models import PerformanceEntry
from server.products.models import Product

LOCAL_OFFSET = 8 * 3600  # Beijing time, the bank's working zone
DAY = 86400
HISTORY_MONTHS = 24  # the volatility rule reads two years of the ledger
LIST_ACTIONS = ("customer.list_page", "customer.export")  # browsing the book (data hoarding)


def epoch(value: datetime | None) -> float:
    if value is None:
        return np.nan
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.timestamp()


def _ts(column: Any, sqlite: bool) -> Any:
    """Select a timestamp (or date) column so it converts in bulk: SQLite's stored text, or
    PostgreSQL's epoch seconds, instead of one Python datetime per row."""
    return type_coerce(column, String) if sqlite else func.extract("epoch", column)


def _epochs(values: list[Any], sqlite: bool) -> np.ndarray:
    if not values:
        return np.zeros(0, dtype=np.float64)
    if sqlite:
        arr = np.array([v if v is not None else "NaT" for v in values], dtype="datetime64[us]")
        out = arr.astype(np.int64) / 1e6
        out[np.isnat(arr)] = np.nan
        return out
    return np.array([float(v) if v is not None else np.nan for v in values], dtype=np.float64)


def _phone_key(phone: str) -> int:
    """A phone number as an integer key: its digits, the last 11 (a mainland mobile without the
    country code), so +86 138-1234-5678 and 13812345678 match."""
    digits = "".join(ch for ch in phone if ch.isdigit())[-11:]
    return int(digits) if digits else 0


def email_key(email: str) -> str:
    """An e-mail address as matched: trimmed, lower case, without a "+tag" in the local part, so
    Zhang.Wei+bank@Mail.cn and zhang.wei@mail.cn are one mailbox."""
    local, _, domain = email.strip().lower().partition("@")
    return f"{local.split('+', 1)[0]}@{domain}" if domain else ""


def local_hour(ts: np.ndarray) -> np.ndarray:
    return ((ts + LOCAL_OFFSET) // 3600 % 24).astype(np.int64)


def local_day(ts: np.ndarray) -> np.ndarray:
    """Proleptic ordinal of the local calendar day (as date.toordinal())."""
    return ((ts + LOCAL_OFFSET) // DAY).astype(np.int64) + date(1970, 1, 1).toordinal()


class Columns:
    """Equal-length numpy columns; `rm` holds RM positions. Sorted by rm, with `slice_of(r)`."""

    def __init__(self, **cols: np.ndarray):
        rm = cols.get("rm")
        if rm is not None and len(rm):
            order = np.argsort(rm, kind="stable")
            cols = {k: v[order] for k, v in cols.items()}
        self.cols = cols
        self.n = len(next(iter(cols.values()))) if cols else 0
        self._bounds: np.ndarray | None = None

    def __getattr__(self, name: str) -> np.ndarray:
        try:
            return self.__dict__["cols"][name]
        except KeyError:
            raise AttributeError(name) from None

    def slice_of(self, r: int, n_rms: int) -> slice:
        if self._bounds is None:
            self._bounds = np.searchsorted(self.cols["rm"], np.arange(n_rms + 1))
        return slice(int(self._bounds[r]), int(self._bounds[r + 1]))

    def where(self, mask: np.ndarray) -> Columns:
        out = Columns.__new__(Columns)
        out.cols = {k: v[mask] for k, v in self.cols.items()}
        out.n = int(mask.sum()) if mask.dtype == bool else len(mask)
        out._bounds = None
        return out


def _cols(rows: list[tuple], names: list[str], kinds: dict[str, Any]) -> Columns:
    if not rows:
        return Columns(**{n: np.zeros(0, dtype=kinds.get(n, np.int64)) for n in names})
    out = {}
    for i, name in enumerate(names):
        kind = kinds.get(name, np.int64)
        out[name] = np.array([row[i] for row in rows], dtype=kind)
    return Columns(**out)


@dataclass
class BankData:
    as_of: date
    now_ts: float
    rm_ids: np.ndarray
    names: list[str]
    grade: np.ndarray
    branch_type: np.ndarray
    team_id: np.ndarray
    quals: list[frozenset[str]]
    book_size: np.ndarray
    ledger: Columns  # id, rm, day, amount, adj, customer, product, ts (created)
    required_qual: dict[int, str]
    reveals: Columns  # id, rm, ts, internal, customer
    listing: Columns  # id, rm, ts, rows
    moves: Columns  # id, rm, ts, customer, inbound
    claims: Columns  # id (opportunity), rm, ts, won, customer (the opportunity's; -1 if none)
    overrides: Columns  # id, rm, ts, kind (0 benefit adjustment, 1 cap override), amount
    visits: Columns  # id, rm, ts, created, has_location, has_next_step
    phones: Columns  # rm, customer, phone (int key)
    emails: Columns = field(
        default_factory=lambda: _cols([], ["rm", "customer", "email"], {})
    )  # email: int key
    links: set[tuple[int, int]] = field(default_factory=set)
    staff_phones: dict[int, int] = field(default_factory=dict)  # staff phone (digits) -> user id
    staff_emails: dict[int, int] = field(default_factory=dict)  # staff e-mail (int key) -> user id
    corporate: set[int] = field(default_factory=set)  # customer ids of firms (对公)
    policies: list[tuple[int, int, str]] = field(default_factory=list)  # local day, item id, title
    cache: dict[str, Any] = field(default_factory=dict)  # helpers' results shared by measure and evidence

    @property
    def n(self) -> int:
        return len(self.rm_ids)

    def index_of(self, rm_id: int) -> int | None:
        pos = int(np.searchsorted(self.rm_ids, rm_id))
        return pos if pos < self.n and self.rm_ids[pos] == rm_id else None


def _is_internal(ip: str | None, networks: list[Any]) -> bool:
    if not ip:
        return True  # no address recorded: a worker or the system, not a device outside
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return False
    return any(addr in net for net in networks)


def load(
    session: Session,
    *,
    as_of: date,
    window_days: int,
    internal_networks: list[str],
    audit_only: bool = False,
) -> BankData:
    """Everything the rules read for every active RM, as of the end of `as_of` (local day)."""
    end = datetime.combine(as_of + timedelta(days=1), datetime.min.time(), tzinfo=UTC) - timedelta(hours=8)
    start = end - timedelta(days=window_days)
    now_ts = end.timestamp()
    conn = session.connection()
    lite = conn.dialect.name == "sqlite"

    user, prof, branch = table_of(User), table_of(RmProfile), table_of(Branch)
    rms = conn.execute(
        select(
            user.c.id,
            user.c.display_name,
            prof.c.grade,
            branch.c.parent_id,
            user.c.team_id,
            prof.c.qualifications,
        )
        .select_from(
            user.join(prof, prof.c.user_id == user.c.id).outerjoin(branch, branch.c.id == user.c.branch_id)
        )
        .where(user.c.role == Role.rm.value, user.c.is_active.is_(True))
        .order_by(user.c.id)
    ).all()
    rm_ids = np.array([r[0] for r in rms], dtype=np.int64)
    index = {int(r[0]): i for i, r in enumerate(rms)}
    n = len(rms)

    def pos(ids: list[int]) -> np.ndarray:
        return np.array([index.get(int(i), -1) for i in ids], dtype=np.int64)

    nets = [ipaddress.ip_network(net, strict=False) for net in internal_networks]
    audit = table_of(AuditEntry)
    rev_rows = conn.execute(
        select(audit.c.id, audit.c.actor_id, _ts(audit.c.at, lite), audit.c.ip, audit.c.object_id).where(
            audit.c.action == "customer.reveal", audit.c.at >= start, audit.c.at < end
        )
    ).all()
    reveals = Columns(
        id=np.array([r[0] for r in rev_rows], dtype=np.int64),
        rm=pos([r[1] or 0 for r in rev_rows]),
        ts=_epochs([r[2] for r in rev_rows], lite),
        internal=np.array([_is_internal(r[3], nets) for r in rev_rows], dtype=bool),
        customer=np.array([int(r[4]) if r[4] and r[4].isdigit() else -1 for r in rev_rows], dtype=np.int64),
    )
    reveals = reveals.where(reveals.rm >= 0)
    list_rows = conn.execute(
        select(audit.c.id, audit.c.actor_id, _ts(audit.c.at, lite), audit.c.detail).where(
            audit.c.action.in_(LIST_ACTIONS), audit.c.at >= start, audit.c.at < end
        )
    ).all()
    listing = Columns(
        id=np.array([r[0] for r in list_rows], dtype=np.int64),
        rm=pos([r[1] or 0 for r in list_rows]),
        ts=_epochs([r[2] for r in list_rows], lite),
        rows=np.array([int((r[3] or {}).get("rows", 0) or 0) for r in list_rows], dtype=np.int64),
    )
    listing = listing.where(listing.rm >= 0)
    cust = table_of(Customer)
    book = np.zeros(n, dtype=np.int64)
    for owner_id, cnt in conn.execute(select(cust.c.owner_id, func.count()).group_by(cust.c.owner_id)):
        i = index.get(int(owner_id))
        if i is not None:
            book[i] = cnt

    branch_type = np.array(["head" if r[3] is None else "sub" for r in rms], dtype=object)
    data = BankData(
        as_of=as_of,
        now_ts=now_ts,
        rm_ids=rm_ids,
        names=[r[1] for r in rms],
        grade=np.array([r[2] for r in rms], dtype=object),
        branch_type=branch_type,
        team_id=np.array([r[4] or 0 for r in rms], dtype=np.int64),
        quals=[frozenset(r[5] or []) for r in rms],
        book_size=book,
        ledger=_cols(
            [], ["id", "rm", "day", "amount", "customer", "product", "ts"], {"ts": np.float64, "adj": bool}
        ),
        required_qual={},
        reveals=reveals,
        listing=listing,
        moves=_cols([], ["id", "rm", "ts", "customer", "inbound"], {"ts": np.float64, "inbound": bool}),
        claims=_cols([], ["id", "rm", "ts", "won", "customer"], {"ts": np.float64, "won": bool}),
        overrides=_cols([], ["id", "rm", "ts", "kind", "amount"], {"ts": np.float64}),
        visits=_cols([], ["id", "rm", "ts", "created", "has_location", "has_next_step"], {"ts": np.float64}),
        phones=_cols([], ["rm", "customer", "phone"], {}),
    )
    data.ledger.cols["adj"] = np.zeros(0, dtype=bool)
    if audit_only:
        return data

    # The ledger: two years of new business (signed: adjustments are negative).
    ledger_start = date(as_of.year - 2, as_of.month, 1)
    pe = table_of(PerformanceEntry)
    led = conn.execute(
        select(
            pe.c.id,
            pe.c.rm_id,
            _ts(pe.c.booked_on, lite),
            pe.c.amount_cents,
            pe.c.source,
            pe.c.customer_id,
            pe.c.product_id,
            _ts(pe.c.created_at, lite),
        ).where(pe.c.kind == "new_business", pe.c.booked_on >= ledger_start, pe.c.booked_on <= as_of)
    ).all()
    data.ledger = Columns(
        id=np.array([r[0] for r in led], dtype=np.int64),
        rm=pos([r[1] for r in led]),
        day=(_epochs([r[2] for r in led], lite) // DAY).astype(np.int64) + date(1970, 1, 1).toordinal(),
        amount=np.array([r[3] for r in led], dtype=np.int64),
        adj=np.array([r[4] == "adjustment" for r in led], dtype=bool),
        customer=np.array([r[5] or -1 for r in led], dtype=np.int64),
        product=np.array([r[6] or -1 for r in led], dtype=np.int64),
        ts=_epochs([r[7] for r in led], lite),
    )
    data.ledger = data.ledger.where(data.ledger.rm >= 0)
    prod = table_of(Product)
    data.required_qual = {
        int(pid): q for pid, q in conn.execute(select(prod.c.id, prod.c.required_qualification)) if q
    }

    # Customers moved to or from an RM (ownership history), outside the bank's own creation.
    oc = table_of(OwnershipChange)
    mv = conn.execute(
        select(oc.c.id, oc.c.rm_id, oc.c.started_at, oc.c.ended_at, oc.c.customer_id, oc.c.reason).where(
            or_(
                and_(oc.c.started_at >= start, oc.c.started_at < end),
                and_(oc.c.ended_at >= start, oc.c.ended_at < end),
            )
        )
    ).all()
    move_rows: list[tuple[int, int, float, int, bool]] = []
    for r in mv:
        st, en = epoch(r[2]), epoch(r[3])
        if r[5] not in ("created", "demo") and start.timestamp() <= st < now_ts:
            move_rows.append((r[0], r[1], st, r[4], True))
        if r[3] is not None and start.timestamp() <= en < now_ts:
            move_rows.append((r[0], r[1], en, r[4], False))
    data.moves = Columns(
        id=np.array([m[0] for m in move_rows], dtype=np.int64),
        rm=pos([m[1] for m in move_rows]),
        ts=np.array([m[2] for m in move_rows], dtype=np.float64),
        customer=np.array([m[3] for m in move_rows], dtype=np.int64),
        inbound=np.array([m[4] for m in move_rows], dtype=bool),
    )
    data.moves = data.moves.where(data.moves.rm >= 0)

    # Pool claims in the window and whether the claimant went on to win.
    tr, opp = table_of(OpportunityTransition), table_of(Opportunity)
    cl = conn.execute(
        select(
            tr.c.opportunity_id,
            tr.c.actor_id,
            _ts(tr.c.at, lite),
            opp.c.status,
            opp.c.owner_id,
            opp.c.customer_id,
        )
        .select_from(tr.join(opp, opp.c.id == tr.c.opportunity_id))
        .where(tr.c.to_status == "claimed", tr.c.at >= start, tr.c.at < end)
    ).all()
    data.claims = Columns(
        id=np.array([r[0] for r in cl], dtype=np.int64),
        rm=pos([r[1] or 0 for r in cl]),
        ts=_epochs([r[2] for r in cl], lite),
        won=np.array([r[3] == "won" and r[4] == r[1] for r in cl], dtype=bool),
        customer=np.array([r[5] or -1 for r in cl], dtype=np.int64),
    )
    data.claims = data.claims.where(data.claims.rm >= 0)

    # Overrides in the RM's favour: benefit-split adjustments and open-claim cap overrides.
    ba = table_of(BenefitAdjustment)
    adj = conn.execute(
        select(
            ba.c.id,
            ba.c.at,
            ba.c.from_originator_cents,
            ba.c.to_originator_cents,
            opp.c.originator_id,
            opp.c.owner_id,
        )
        .select_from(ba.join(opp, opp.c.id == ba.c.opportunity_id))
        .where(ba.c.at >= start, ba.c.at < end)
    ).all()
    ov: list[tuple[int, int, float, int, int]] = []
    for r in adj:
        delta = int(r[3]) - int(r[2])
        beneficiary = r[4] if delta > 0 else r[5]
        if beneficiary is not None and delta != 0:
            ov.append((r[0], beneficiary, epoch(r[1]), 0, abs(delta)))
    caps = conn.execute(
        select(audit.c.id, audit.c.at, audit.c.detail).where(
            audit.c.action == "opportunity.reassign", audit.c.at >= start, audit.c.at < end
        )
    ).all()
    for cap in caps:
        detail = cap[2] or {}
        if detail.get("cap_override_reason") and detail.get("to_rm_id"):
            ov.append((cap[0], int(detail["to_rm_id"]), epoch(cap[1]), 1, 0))
    data.overrides = Columns(
        id=np.array([o[0] for o in ov], dtype=np.int64),
        rm=pos([o[1] for o in ov]),
        ts=np.array([o[2] for o in ov], dtype=np.float64),
        kind=np.array([o[3] for o in ov], dtype=np.int64),
        amount=np.array([o[4] for o in ov], dtype=np.int64),
    )
    data.overrides = data.overrides.where(data.overrides.rm >= 0)

    cv = table_of(CustomerVisit)
    vs = conn.execute(
        select(
            cv.c.id,
            cv.c.rm_id,
            _ts(cv.c.occurred_at, lite),
            _ts(cv.c.created_at, lite),
            cv.c.location,
            cv.c.next_step,
        ).where(cv.c.occurred_at >= start, cv.c.occurred_at < end)
    ).all()
    data.visits = Columns(
        id=np.array([r[0] for r in vs], dtype=np.int64),
        rm=pos([r[1] for r in vs]),
        ts=_epochs([r[2] for r in vs], lite),
        created=_epochs([r[3] for r in vs], lite),
        has_location=np.array([bool(r[4] and r[4].strip()) for r in vs], dtype=bool),
        has_next_step=np.array([bool(r[5] and r[5].strip()) for r in vs], dtype=bool),
    )
    data.visits = data.visits.where(data.visits.rm >= 0)

    # Contact details: the customer's own phone and its decision makers' phones.
    ct = table_of(Contact)
    ph = list(
        conn.execute(select(cust.c.owner_id, cust.c.id, cust.c.phone).where(cust.c.phone.is_not(None))).all()
    )
    ph += conn.execute(
        select(cust.c.owner_id, cust.c.id, ct.c.phone)
        .select_from(ct.join(cust, cust.c.id == ct.c.customer_id))
        .where(ct.c.phone.is_not(None))
    ).all()
    digits = [_phone_key(p[2]) for p in ph]
    data.phones = Columns(
        rm=pos([p[0] for p in ph]),
        customer=np.array([p[1] for p in ph], dtype=np.int64),
        phone=np.array(digits, dtype=np.int64),
    )
    data.phones = data.phones.where((data.phones.rm >= 0) & (data.phones.phone > 0))
    # Staff's own numbers (user.phone, any role): a customer carrying one shares it with the bank.
    us = table_of(User)
    for uid, phone in conn.execute(select(us.c.id, us.c.phone).where(us.c.phone.is_not(None))):
        key = _phone_key(phone)
        if key > 0:
            data.staff_phones[key] = int(uid)
    # E-mail addresses the same way (customer's own, decision makers'), as integer keys of one
    # vocabulary shared with the staff's own addresses (user.email).
    vocab: dict[str, int] = {}

    def key_of(email: str) -> int:
        norm = email_key(email)
        return vocab.setdefault(norm, len(vocab) + 1) if norm else 0

    em = list(
        conn.execute(select(cust.c.owner_id, cust.c.id, cust.c.email).where(cust.c.email.is_not(None))).all()
    )
    em += conn.execute(
        select(cust.c.owner_id, cust.c.id, ct.c.email)
        .select_from(ct.join(cust, cust.c.id == ct.c.customer_id))
        .where(ct.c.email.is_not(None))
    ).all()
    data.emails = Columns(
        rm=pos([e[0] for e in em]),
        customer=np.array([e[1] for e in em], dtype=np.int64),
        email=np.array([key_of(e[2]) for e in em], dtype=np.int64),
    )
    data.emails = data.emails.where((data.emails.rm >= 0) & (data.emails.email > 0))
    for uid, email in conn.execute(select(us.c.id, us.c.email).where(us.c.email.is_not(None))):
        k = key_of(email)
        if k > 0:
            data.staff_emails[k] = int(uid)
    data.corporate = set(conn.execute(select(cust.c.id).where(cust.c.kind == "corporate")).scalars())
    cl_t = table_of(CustomerLink)
    data.links = {
        (min(a, b), max(a, b))
        for a, b in conn.execute(
            select(cl_t.c.from_customer_id, cl_t.c.to_customer_id).where(cl_t.c.to_customer_id.is_not(None))
        )
    }

    # Favourable policy news (天时): the moments a "pile it all in" burst would follow.
    it = table_of(IntelItem)
    pol = conn.execute(
        select(it.c.id, it.c.published_at, it.c.created_at, it.c.title).where(
            it.c.category == "policy",
            it.c.sentiment == "favourable",
            or_(
                it.c.published_at >= start - timedelta(days=365),
                it.c.created_at >= start - timedelta(days=365),
            ),
        )
    ).all()
    data.policies = sorted(
        (int(local_day(np.array([epoch(r[1] or r[2])]))[0]), int(r[0]), str(r[3])) for r in pol
    )
    return data
