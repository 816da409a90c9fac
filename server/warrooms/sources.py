"""Campaign sources: where a bulk of targets comes from. Each resolver turns a source into candidate
targets (a customer, or a prospect known by name) with a note of how it was found; `campaigns.py`
adds them to the room. Resolvers only read.

Sources: the customer search's filter, a core enterprise's supply chain, the firms of one park or
address area, a company's employees, a CSV/XLSX list. The prospecting feature plugs its map
selection in through `register` (type "prospects"): a resolver taking (session, user, source) and
returning candidates, nothing else to change here.

Who may bring what: the search covers the caller's own book (a team lead's team); the chain, the
park, the employees and a file's names or credit codes may reach other RMs' customers, which enter
as requests to their RM (consent); a firm that is nobody's customer enters as a prospect. A typed
customer id the caller may not see answers like a missing one.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlmodel import Session, col, select

from server.customers.models import (
    CorporateProfile,
    Customer,
    CustomerKind,
    CustomerLink,
    IndividualProfile,
)
from server.customers.schemas import CustomerListQuery
from server.customers.service import get_customer_for, search_filter
from server.db import row_id
from server.errors import Problem, unprocessable
from server.org.models import User
from server.warrooms.campaign_schemas import (
    MAX_FILE_BYTES,
    ChainDirection,
    ChainSource,
    EmployeesSource,
    FileSource,
    ParkSource,
    SearchSource,
)

MAX_CANDIDATES = 5000  # per bulk: the most one source may bring
MAX_XLSX_UNCOMPRESSED = 20 * 1024 * 1024
MAX_XLSX_CELLS = (MAX_CANDIDATES + 1) * 16
SUPPLY = ("supplier", "buyer")
SIDE_LABEL = {"upstream": "上游", "downstream": "下游"}


@dataclass
class Candidate:
    """One would-be target: a customer (by id) or a prospect (by name)."""

    customer_id: int | None = None
    prospect_name: str | None = None
    note: str | None = None
    amount_cents: int = 0


@dataclass
class Resolved:
    label: str  # what the room's timeline says the bulk came from
    candidates: list[Candidate]
    extra: dict[str, Any] = field(default_factory=dict)  # source-specific figures (a head-count estimate)


Resolver = Callable[[Session, User, Any], Resolved]
_extra_resolvers: dict[str, Resolver] = {}


def register(source_type: str, resolver: Resolver) -> None:
    """Adds a source (e.g. the prospect selection from the map), registered once at app start."""
    _extra_resolvers[source_type] = resolver


def too_many_targets() -> Problem:
    return unprocessable(
        f"A source may bring at most {MAX_CANDIDATES} targets at once.", code="too-many-targets"
    )


def resolve(session: Session, *, user: User, source: Any) -> Resolved:
    if isinstance(source, SearchSource):
        found = from_search(session, user=user, source=source)
    elif isinstance(source, ChainSource):
        found = from_chain(session, user=user, source=source)
    elif isinstance(source, ParkSource):
        found = from_park(session, source=source)
    elif isinstance(source, EmployeesSource):
        found = from_employees(session, user=user, source=source)
    elif isinstance(source, FileSource):
        found = from_file(session, user=user, source=source)
    elif getattr(source, "type", None) in _extra_resolvers:
        found = _extra_resolvers[source.type](session, user, source)
    else:  # pragma: no cover - the schema's discriminator admits only the sources above
        raise unprocessable("Unknown source.")
    if len(found.candidates) > MAX_CANDIDATES:
        raise too_many_targets()
    return found


def from_search(session: Session, *, user: User, source: SearchSource) -> Resolved:
    query = CustomerListQuery(**source.model_dump(exclude={"type"}, exclude_none=True))
    ids = session.exec(
        select(Customer.id)
        .where(search_filter(session, user=user, query=query))
        .order_by(col(Customer.name), col(Customer.id))
        .limit(MAX_CANDIDATES + 1)
    ).all()
    parts = [v for v in (source.q, source.industry, source.region, source.tags) if v]
    label = "客户筛选" + (f"：{' / '.join(parts)}" if parts else "")
    return Resolved(label=label, candidates=[Candidate(customer_id=i, note="客户筛选") for i in ids])


@dataclass
class ChainNode:
    """One firm of a core enterprise's chain: a customer or a named party that is not one."""

    side: str  # upstream, downstream
    hop: int
    via_id: int  # the customer it links to (the core at hop 1)
    customer_id: int | None
    name: str
    link: str | None  # the relationship's label, e.g. 原材料供应

    @property
    def note(self) -> str:
        text = f"{SIDE_LABEL[self.side]} {self.hop} 级"
        return f"{text} · {self.link}" if self.link else text


def chain_of(
    session: Session, *, core_id: int, direction: ChainDirection, hops: int, limit: int = MAX_CANDIDATES
) -> list[ChainNode]:
    """The core enterprise's upstream (suppliers and theirs) and downstream (buyers and theirs), breadth
    first, each firm once at its nearest hop. A link A→B `supplier` means B supplies A; `buyer`, B buys
    from A; either may be recorded on either side, so both directions of each link are read."""
    sides = ["upstream", "downstream"] if direction == ChainDirection.both else [direction.value]
    nodes: list[ChainNode] = []
    for side in sides:
        forward_kind, reverse_kind = ("supplier", "buyer") if side == "upstream" else ("buyer", "supplier")
        seen_ids: set[int] = {core_id}
        seen_names: set[str] = set()
        frontier = [core_id]
        for hop in range(1, hops + 1):
            if not frontier:
                break
            rows = session.exec(
                select(CustomerLink, Customer.name)
                .join(Customer, col(Customer.id) == CustomerLink.to_customer_id, isouter=True)
                .where(col(CustomerLink.from_customer_id).in_(frontier), CustomerLink.kind == forward_kind)
                .order_by(col(CustomerLink.id))
            ).all()
            back = session.exec(
                select(CustomerLink, Customer.name)
                .join(Customer, col(Customer.id) == CustomerLink.from_customer_id)
                .where(col(CustomerLink.to_customer_id).in_(frontier), CustomerLink.kind == reverse_kind)
                .order_by(col(CustomerLink.id))
            ).all()
            found: list[ChainNode] = []
            for link, name in rows:
                if link.to_customer_id is not None:
                    if link.to_customer_id in seen_ids:
                        continue
                    seen_ids.add(link.to_customer_id)
                    found.append(
                        ChainNode(
                            side, hop, link.from_customer_id, link.to_customer_id, name or "", link.label
                        )
                    )
                elif link.to_name and link.to_name not in seen_names:
                    seen_names.add(link.to_name)
                    found.append(ChainNode(side, hop, link.from_customer_id, None, link.to_name, link.label))
            for link, name in back:
                if link.from_customer_id in seen_ids or link.to_customer_id is None:
                    continue
                seen_ids.add(link.from_customer_id)
                found.append(
                    ChainNode(side, hop, link.to_customer_id, link.from_customer_id, name, link.label)
                )
            nodes.extend(found)
            if len(nodes) > limit:
                raise too_many_targets()
            frontier = [n.customer_id for n in found if n.customer_id is not None]
    return nodes


def from_chain(session: Session, *, user: User, source: ChainSource) -> Resolved:
    core = get_customer_for(session, user=user, customer_id=source.core_customer_id)
    nodes = chain_of(session, core_id=row_id(core), direction=source.direction, hops=source.hops)
    candidates = [Candidate(customer_id=row_id(core), note="核心企业")]
    for node in nodes:
        if node.customer_id is not None:
            candidates.append(Candidate(customer_id=node.customer_id, note=node.note))
        else:
            candidates.append(Candidate(prospect_name=node.name, note=node.note))
    label = f"{core.name} 上下游（{source.hops} 级）"
    return Resolved(
        label=label,
        candidates=candidates,
        extra={"core_customer_id": core.id, "direction": source.direction.value, "hops": source.hops},
    )


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def from_park(session: Session, *, source: ParkSource) -> Resolved:
    conditions = [
        col(Customer.kind) == CustomerKind.corporate,
        col(CorporateProfile.address).like(_like(source.address.strip()), escape="\\"),
    ]
    if source.region:
        conditions.append(col(Customer.region_code).startswith(source.region))
    ids = session.exec(
        select(Customer.id)
        .join(CorporateProfile, col(CorporateProfile.customer_id) == Customer.id)
        .where(*conditions)
        .order_by(col(Customer.name), col(Customer.id))
        .limit(MAX_CANDIDATES + 1)
    ).all()
    note = f"园区：{source.address.strip()}"
    return Resolved(label=note, candidates=[Candidate(customer_id=i, note=note) for i in ids])


def from_employees(session: Session, *, user: User, source: EmployeesSource) -> Resolved:
    company = get_customer_for(session, user=user, customer_id=source.company_customer_id)
    if company.kind != CustomerKind.corporate:
        raise unprocessable(
            "Employees come from a company.",
            errors=[{"field": "company_customer_id", "message": "not a company"}],
        )
    profile = session.get(CorporateProfile, company.id)
    names = [company.name] + ([profile.short_name] if profile and profile.short_name else [])
    ids = session.exec(
        select(Customer.id)
        .join(IndividualProfile, col(IndividualProfile.customer_id) == Customer.id)
        .where(col(IndividualProfile.employer).in_(names))
        .order_by(col(Customer.id))
        .limit(MAX_CANDIDATES + 1)
    ).all()
    head_count = profile.employees if profile and profile.employees else None
    note = f"{company.name} 员工"
    return Resolved(
        label=note,
        candidates=[Candidate(customer_id=i, note=note) for i in ids],
        extra={
            "company": company.name,
            "employees_declared": head_count,
            # staff who are not yet our customers: the retail campaign's room to grow
            "not_yet_customers_estimate": max(head_count - len(ids), 0) if head_count else None,
        },
    )


# --- a CSV/XLSX list ----------------------------------------------------------------------------

FILE_HEADERS = {
    "name": "name",
    "客户名称": "name",
    "企业名称": "name",
    "credit_code": "credit_code",
    "统一社会信用代码": "credit_code",
    "customer_id": "customer_id",
    "客户编号": "customer_id",
    "amount": "amount",
    "预计金额": "amount",
}


def bad_file(detail: str, errors: list[dict[str, Any]] | None = None) -> Problem:
    return unprocessable(detail, code="bad-file", errors=errors)


def _xlsx_values(raw: bytes) -> list[list[Any]]:
    """Rows of the first sheet, after checking the archive's declared sizes (a small file may expand
    to gigabytes) and the sheet's declared dimensions, before anything is parsed."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
        declared = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError):
        raise bad_file("This is not a readable .xlsx file.") from None
    if declared > MAX_XLSX_UNCOMPRESSED:
        raise bad_file("The .xlsx file expands beyond the size allowed.")
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
        sheet = book.worksheets[0]
        rows, cols = sheet.max_row or 0, sheet.max_column or 0
        if rows > MAX_CANDIDATES + 1 or rows * cols > MAX_XLSX_CELLS:
            raise too_many_targets()
        values = [list(r) for r in sheet.iter_rows(values_only=True, max_row=MAX_CANDIDATES + 2)]
        book.close()
    except Problem:
        raise
    except Exception:
        raise bad_file("This is not a readable .xlsx file.") from None
    return values


def read_file_rows(filename: str, content_base64: str) -> list[dict[str, Any]]:
    """The list's rows keyed by column (`_line` is the file's line number), bounded by bytes, rows
    and (for XLSX) uncompressed size before parsing."""
    try:
        raw = base64.b64decode(content_base64, validate=True)
    except (binascii.Error, ValueError):
        raise bad_file("content_base64 is not valid base64.") from None
    if len(raw) > MAX_FILE_BYTES:
        raise bad_file(f"The file is larger than {MAX_FILE_BYTES // 1024 // 1024} MB.")
    values: list[list[Any]] = []
    if filename.lower().endswith(".xlsx"):
        values = _xlsx_values(raw)
    else:
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                text = raw.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise bad_file("The CSV is neither UTF-8 nor GB18030.")
        for record in csv.reader(io.StringIO(text)):
            values.append(list(record))
            if len(values) > MAX_CANDIDATES + 1:
                raise too_many_targets()
    lines = [(n, r) for n, r in enumerate(values, start=1) if any(v not in (None, "") for v in r)]
    if not lines:
        raise bad_file("The file is empty.")
    head = lines[0][1]
    header = [
        FILE_HEADERS.get(str(h or "").strip().lower(), FILE_HEADERS.get(str(h or "").strip())) for h in head
    ]
    unknown = [str(head[i]) for i, h in enumerate(header) if h is None and head[i] not in (None, "")]
    if unknown:
        raise bad_file(f"Unknown columns: {', '.join(unknown)}.")
    if not {"name", "credit_code", "customer_id"} & set(filter(None, header)):
        raise bad_file("The file needs a 客户名称, 统一社会信用代码 or 客户编号 column.")
    if len(lines) - 1 > MAX_CANDIDATES:
        raise too_many_targets()
    rows = []
    for line, data in lines[1:]:
        row: dict[str, Any] = {"_line": line}
        for i, name in enumerate(header):
            if name and i < len(data) and data[i] not in (None, ""):
                value = data[i]
                row[name] = value.strip() if isinstance(value, str) else value
        rows.append(row)
    return rows


def _amount_cents(value: Any) -> int | None:
    if value in (None, ""):
        return 0
    try:
        amount = Decimal(str(value).replace(",", ""))
    except InvalidOperation:
        return None
    if amount < 0 or amount > Decimal("1e12"):
        return None
    return int(amount * 100)


def from_file(session: Session, *, user: User, source: FileSource) -> Resolved:
    """Each row names a customer (客户编号 the caller may see; a credit code or an exact name of any
    customer, who enters by their RM's consent) or a prospect (a name that is nobody's customer).
    Any bad row adds nothing: the answer lists each bad row's line and reason."""
    rows = read_file_rows(source.filename, source.content_base64)
    codes = {str(r["credit_code"]).upper() for r in rows if r.get("credit_code")}
    by_code = (
        dict(
            session.exec(
                select(CorporateProfile.credit_code, CorporateProfile.customer_id).where(
                    col(CorporateProfile.credit_code).in_(codes)
                )
            ).all()
        )
        if codes
        else {}
    )
    names = {
        str(r["name"])
        for r in rows
        if r.get("name") and not r.get("credit_code") and not r.get("customer_id")
    }
    by_name: dict[str, list[int]] = {}
    for chunk in _chunks(sorted(names), 500):
        for cid, name in session.exec(
            select(Customer.id, Customer.name).where(
                col(Customer.name).in_(chunk), Customer.kind == CustomerKind.corporate
            )
        ).all():
            by_name.setdefault(name, []).append(int(cid or 0))
    errors: list[dict[str, Any]] = []
    candidates: list[Candidate] = []
    note = f"名单：{source.filename}"
    for row in rows:
        line = row["_line"]
        amount = _amount_cents(row.get("amount"))
        if amount is None:
            errors.append({"line": line, "field": "amount", "reason": "not an amount in yuan"})
            continue
        if row.get("customer_id"):
            try:
                wanted = int(str(row["customer_id"]))
                customer = get_customer_for(session, user=user, customer_id=wanted)
            except (ValueError, Problem):
                errors.append({"line": line, "field": "customer_id", "reason": "unknown customer"})
                continue
            candidates.append(Candidate(customer_id=customer.id, note=note, amount_cents=amount))
        elif row.get("credit_code"):
            code = str(row["credit_code"]).upper()
            if code in by_code:
                candidates.append(Candidate(customer_id=by_code[code], note=note, amount_cents=amount))
            elif row.get("name") and 2 <= len(str(row["name"])) <= 128:
                candidates.append(Candidate(prospect_name=str(row["name"]), note=note, amount_cents=amount))
            else:
                errors.append(
                    {"line": line, "field": "name", "reason": "no customer has this credit code; give a name"}
                )
        else:
            name = str(row.get("name", ""))
            if not 2 <= len(name) <= 128:
                errors.append({"line": line, "field": "name", "reason": "a name of 2 to 128 characters"})
                continue
            matches = by_name.get(name, [])
            if len(matches) == 1:
                candidates.append(Candidate(customer_id=matches[0], note=note, amount_cents=amount))
            else:  # nobody's customer (or an ambiguous name): a prospect
                candidates.append(Candidate(prospect_name=name, note=note, amount_cents=amount))
    if errors:
        raise bad_file(f"{len(errors)} rows cannot be added.", errors[:200])
    return Resolved(label=note, candidates=candidates, extra={"rows": len(rows)})


def _chunks(items: list[str], size: int) -> list[list[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def owners_of(session: Session, customer_ids: list[int]) -> dict[int, Customer]:
    out: dict[int, Customer] = {}
    for start in range(0, len(customer_ids), 900):
        chunk = customer_ids[start : start + 900]
        for customer in session.exec(select(Customer).where(col(Customer.id).in_(chunk))).all():
            out[row_id(customer)] = customer
    return out
