"""Customer rules: who may see which customer, search, create, versioned update, audited reveal."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, UnaryExpression, and_, exists, or_, update
from sqlmodel import Session, col, func, select

from server import events
from server.audit import service as audit
from server.crypto import decrypt_field, encrypt_field, field_digest
from server.customers.models import (
    Contact,
    CorporateProfile,
    Customer,
    CustomerEvent,
    CustomerGrant,
    CustomerKind,
    CustomerLink,
    CustomerTag,
    IndividualProfile,
    OwnershipChange,
    Tag,
    Tier,
)
from server.customers.schemas import CustomerCreate, CustomerListQuery, CustomerSort, CustomerUpdate
from server.db import id_col, row_id
from server.errors import Problem, conflict, forbidden, not_found, stale, unprocessable
from server.masking import mask
from server.org.models import Role, Team, User
from server.pinyin import initials
from server.reference import industry_name, region_name
from server.timeutil import iso, utcnow
from server.validators import id_birth_date


def team_member_ids(session: Session, *, lead: User) -> list[int]:
    team_ids = select(Team.id).where(Team.lead_id == lead.id)
    return list(
        session.exec(
            select(id_col(User.id)).where(col(User.team_id).in_(team_ids), User.role == Role.rm)
        ).all()
    )


def visible_owner_ids(session: Session, *, user: User) -> list[int]:
    """Whose books a user may browse: an RM their own, a team lead their team's. Others none."""
    if user.role == Role.rm:
        return [row_id(user)]
    if user.role == Role.team_lead:
        return team_member_ids(session, lead=user)
    return []


def has_grant(session: Session, *, user_id: int, customer_id: int) -> bool:
    return (
        session.exec(
            select(CustomerGrant.id).where(
                CustomerGrant.user_id == user_id,
                CustomerGrant.customer_id == customer_id,
                col(CustomerGrant.revoked_at).is_(None),
            )
        ).first()
        is not None
    )


def readable_ids(session: Session, *, user: User, customer_ids: set[int]) -> set[int]:
    """Which of these customers this user may read (the rule of `get_customer_for`, for many)."""
    if not customer_ids:
        return set()
    owners = {*visible_owner_ids(session, user=user), row_id(user)}
    readable = set(
        session.exec(
            select(id_col(Customer.id)).where(
                col(Customer.id).in_(customer_ids), col(Customer.owner_id).in_(owners)
            )
        ).all()
    )
    readable |= set(
        session.exec(
            select(CustomerGrant.customer_id).where(
                CustomerGrant.user_id == user.id,
                col(CustomerGrant.customer_id).in_(customer_ids),
                col(CustomerGrant.revoked_at).is_(None),
            )
        ).all()
    )
    return readable


def get_customer_for(session: Session, *, user: User, customer_id: int, write: bool = False) -> Customer:
    """The customer if this user may read (or, with write=True, change) it; otherwise 404, so an id
    guess reveals nothing about whether the customer exists."""
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise not_found("customer")
    if customer.owner_id == user.id:
        return customer
    if write:
        raise not_found("customer")
    if customer.owner_id in visible_owner_ids(session, user=user) or has_grant(
        session,
        user_id=row_id(user),
        customer_id=customer_id,
    ):
        return customer
    raise not_found("customer")


FIRST_SCREEN_ROWS = 20  # the default page: reading past it counts as browsing the book in bulk


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_filter(session: Session, *, user: User, query: CustomerListQuery) -> ColumnElement[bool]:
    """The customer search's WHERE clause over the books this user may browse (also used by war
    rooms to add every customer of a search at once)."""
    if user.role not in (Role.rm, Role.team_lead):
        raise forbidden("Only relationship managers and team leads browse customers.")
    owners = visible_owner_ids(session, user=user)
    if query.owner_id is not None:
        # Only within what the user may browse: another team's RM yields nothing, not an error.
        owners = [o for o in owners if o == query.owner_id]
    conditions: list[ColumnElement[bool]] = [
        col(Customer.owner_id).in_(owners) if len(owners) != 1 else col(Customer.owner_id) == owners[0]
    ]
    if query.q:
        text = query.q.strip()
        pattern = f"%{_escape_like(text)}%"
        matches = [col(Customer.name).like(pattern, escape="\\")]
        if text.isascii():
            matches.append(col(Customer.name_initials).like(f"{_escape_like(text.lower())}%", escape="\\"))
        conditions.append(or_(*matches))
    if query.kind:
        conditions.append(col(Customer.kind) == query.kind)
    if query.industry:
        conditions.append(col(Customer.industry_code).startswith(query.industry.upper()))
    if query.size:
        conditions.append(col(Customer.size) == query.size)
    if query.tier:
        conditions.append(col(Customer.tier) == query.tier)
    if query.region:
        conditions.append(col(Customer.region_code).startswith(query.region))
    if query.tags:
        for name in [t.strip() for t in query.tags.split(",") if t.strip()][:5]:
            conditions.append(
                exists().where(
                    and_(
                        col(CustomerTag.customer_id) == Customer.id,
                        col(CustomerTag.tag_id) == Tag.id,
                        col(Tag.name) == name,
                    )
                )
            )
    return and_(*conditions)


def list_customers(session: Session, *, user: User, query: CustomerListQuery) -> tuple[list[Customer], int]:
    where = search_filter(session, user=user, query=query)
    total = session.exec(select(func.count()).select_from(Customer).where(where)).one()
    sort_orders: dict[CustomerSort, list[UnaryExpression[Any]]] = {
        CustomerSort.name: [col(Customer.name).asc(), col(Customer.id).asc()],
        CustomerSort.name_desc: [col(Customer.name).desc(), col(Customer.id).desc()],
        CustomerSort.updated_at: [col(Customer.updated_at).asc(), col(Customer.id).asc()],
        CustomerSort.updated_at_desc: [col(Customer.updated_at).desc(), col(Customer.id).desc()],
        CustomerSort.tier: [col(Customer.tier).asc(), col(Customer.name).asc()],
    }
    order = sort_orders[query.sort]
    # Find the page's ids first, then load those rows: the search, count and sort can then run on
    # the covering index (owner_id, name, name_initials) instead of reading every row of the book.
    ids = session.exec(
        select(Customer.id)
        .where(where)
        .order_by(*order)
        .offset((query.page - 1) * query.page_size)
        .limit(query.page_size)
    ).all()
    # Every list or search page that reads past the first screen is audited with the count of those
    # rows (page 2 on, or a page 1 longer than a screen): conduct monitoring (data hoarding) reads it.
    offset = (query.page - 1) * query.page_size
    past_first_screen = max(0, offset + len(ids) - max(offset, FIRST_SCREEN_ROWS))
    if past_first_screen:
        audit.record(
            session,
            actor_id=user.id,
            action="customer.list_page",
            object_type="customer",
            detail={
                "page": query.page,
                "page_size": query.page_size,
                "rows": past_first_screen,
                "search": bool(
                    query.q
                    or query.kind
                    or query.industry
                    or query.size
                    or query.tier
                    or query.region
                    or query.tags
                ),
            },
        )
        session.commit()
    if not ids:
        return [], total
    by_id = {c.id: c for c in session.exec(select(Customer).where(col(Customer.id).in_(ids))).all()}
    return [by_id[i] for i in ids if i in by_id], total


def _tags_by_customer(session: Session, customer_ids: list[int]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {cid: [] for cid in customer_ids}
    if not customer_ids:
        return out
    rows = session.exec(
        select(CustomerTag.customer_id, Tag.name)
        .join(Tag, col(Tag.id) == col(CustomerTag.tag_id))
        .where(col(CustomerTag.customer_id).in_(customer_ids))
        .order_by(Tag.name)
    ).all()
    for customer_id, name in rows:
        out[customer_id].append(name)
    return out


def summaries(session: Session, customers: list[Customer]) -> list[dict[str, Any]]:
    tags = _tags_by_customer(session, [row_id(c) for c in customers])
    owner_ids = {c.owner_id for c in customers}
    owners = (
        {u.id: u for u in session.exec(select(User).where(col(User.id).in_(owner_ids))).all()}
        if owner_ids
        else {}
    )
    return [
        {
            "id": c.id,
            "kind": c.kind,
            "name": c.name,
            "industry_code": c.industry_code,
            "industry_name": industry_name(c.industry_code),
            "size": c.size,
            "ownership": c.ownership,
            "region_code": c.region_code,
            "region_name": c.region_name or region_name(c.region_code),
            "tier": c.tier,
            "gender": c.gender,
            "phone_masked": mask("phone", c.phone),
            "tags": tags.get(row_id(c), []),
            "owner": {
                "id": c.owner_id,
                "display_name": owners[c.owner_id].display_name if c.owner_id in owners else "",
            },
            "updated_at": iso(c.updated_at),
            "version": c.version,
        }
        for c in customers
    ]


def detail(session: Session, *, customer: Customer, data_key: str) -> dict[str, Any]:
    out = summaries(session, [customer])[0]
    if customer.kind == CustomerKind.corporate:
        corp = session.get(CorporateProfile, customer.id)
        out["corporate"] = corp.model_dump(exclude={"customer_id"}, mode="json") if corp is not None else None
        out["contacts"] = [
            {
                **c.model_dump(exclude={"phone", "email", "customer_id"}, mode="json"),
                "phone_masked": mask("phone", c.phone),
            }
            for c in session.exec(
                select(Contact)
                .where(Contact.customer_id == customer.id)
                .order_by(col(Contact.influence).desc())
            ).all()
        ]
    else:
        ind = session.get(IndividualProfile, customer.id)
        if ind is not None:
            id_number = decrypt_field(ind.id_number_encrypted, data_key)
            out["individual"] = {
                "id_number_masked": mask("id_number", id_number),
                "birthday": ind.birth_date.strftime("%m-%d") if ind.birth_date else None,
                "age": _age(ind.birth_date),
                "occupation": ind.occupation,
                "employer": ind.employer,
                "income_band": ind.income_band,
                "risk_appetite": ind.risk_appetite,
                "interests": ind.interests,
            }
        else:
            out["individual"] = None
    out["events"] = [
        e.model_dump(exclude={"customer_id"}, mode="json")
        for e in session.exec(
            select(CustomerEvent)
            .where(CustomerEvent.customer_id == customer.id)
            .order_by(col(CustomerEvent.occurred_on).desc())
        ).all()
    ]
    links = session.exec(
        select(CustomerLink, Customer.name)
        .join(Customer, col(Customer.id) == col(CustomerLink.to_customer_id), isouter=True)
        .where(CustomerLink.from_customer_id == customer.id)
    ).all()
    out["links"] = [
        {
            "kind": link.kind,
            "label": link.label,
            "to_customer_id": link.to_customer_id,
            "to_name": link.to_name or name,
        }
        for link, name in links
    ]
    out["ownership_history"] = [
        {"rm_id": o.rm_id, "started_at": iso(o.started_at), "ended_at": iso(o.ended_at), "reason": o.reason}
        for o in session.exec(
            select(OwnershipChange)
            .where(OwnershipChange.customer_id == customer.id)
            .order_by(col(OwnershipChange.started_at))
        ).all()
    ]
    return out


def _age(born) -> int | None:
    if born is None:
        return None
    today = utcnow().date()
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def _set_tags(session: Session, *, customer_id: int, names: list[str]) -> None:
    wanted = sorted({n.strip()[:32] for n in names if n.strip()})
    existing = (
        {t.name: t for t in session.exec(select(Tag).where(col(Tag.name).in_(wanted))).all()}
        if wanted
        else {}
    )
    for name in wanted:
        if name not in existing:
            tag = Tag(name=name, category="custom")
            session.add(tag)
            session.flush()
            existing[name] = tag
    current = session.exec(select(CustomerTag).where(CustomerTag.customer_id == customer_id)).all()
    keep = {existing[n].id for n in wanted}
    for link in current:
        if link.tag_id not in keep:
            session.delete(link)
    have = {link.tag_id for link in current}
    for tag_id in keep - have:
        session.add(CustomerTag(customer_id=customer_id, tag_id=tag_id))  # type: ignore[arg-type]


def create_customer(
    session: Session, *, user: User, data: CustomerCreate, data_key: str, ip: str | None
) -> Customer:
    if user.role != Role.rm:
        raise forbidden("Only relationship managers own customers.")
    if (
        data.corporate
        and session.exec(
            select(CorporateProfile.customer_id).where(
                CorporateProfile.credit_code == data.corporate.credit_code
            )
        ).first()
    ):
        raise conflict("A customer with this credit code already exists.", code="duplicate-customer")
    digest = field_digest(data.individual.id_number, data_key) if data.individual else None
    if (
        digest
        and session.exec(
            select(IndividualProfile.customer_id).where(IndividualProfile.id_number_digest == digest)
        ).first()
    ):
        raise conflict("A customer with this ID number already exists.", code="duplicate-customer")
    customer = Customer(
        kind=data.kind,
        name=data.name.strip(),
        name_initials=initials(data.name),
        owner_id=row_id(user),
        branch_id=user.branch_id,
        region_code=data.region_code,
        region_name=region_name(data.region_code),
        industry_code=data.industry_code,
        size=data.size,
        ownership=data.ownership,
        gender=data.gender,
        tier=data.tier or Tier.mass,
        phone=data.phone,
        email=data.email,
    )
    session.add(customer)
    session.flush()
    if data.corporate:
        session.add(CorporateProfile(customer_id=row_id(customer), **data.corporate.model_dump()))
    if data.individual:
        ind = data.individual
        session.add(
            IndividualProfile(
                customer_id=row_id(customer),
                birth_date=id_birth_date(ind.id_number),
                id_number_encrypted=encrypt_field(ind.id_number, data_key),
                id_number_digest=digest,  # type: ignore[arg-type]
                **ind.model_dump(exclude={"id_number"}),
            )
        )
    if data.tags:
        _set_tags(session, customer_id=row_id(customer), names=data.tags)
    session.add(OwnershipChange(customer_id=row_id(customer), rm_id=row_id(user), reason="created"))
    audit.record(
        session,
        actor_id=user.id,
        action="customer.create",
        object_type="customer",
        object_id=customer.id,
        ip=ip,
    )
    events.publish(session, "customer.changed", {"customer_id": customer.id, "owner_id": user.id})
    session.commit()
    return customer


def update_customer(
    session: Session,
    *,
    user: User,
    customer_id: int,
    data: CustomerUpdate,
    expected_version: int | None,
    ip: str | None,
) -> Customer:
    customer = get_customer_for(session, user=user, customer_id=customer_id, write=True)
    if expected_version is None:
        raise Problem(
            428,
            "Precondition Required",
            "Send If-Match or `version` with the version you edited.",
            code="version-required",
        )
    # One conditional UPDATE decides the race: only the writer holding the current version wins.
    result = session.exec(
        update(Customer)
        .where(col(Customer.id) == customer_id, col(Customer.version) == expected_version)
        .values(version=expected_version + 1, updated_at=utcnow())
    )
    if result.rowcount != 1:
        session.rollback()
        current = session.get(Customer, customer_id)
        raise stale(
            "Someone changed this customer after you loaded it.",
            current=summaries(session, [current])[0] if current else None,
        )
    session.refresh(customer)
    fields = data.model_dump(exclude_unset=True, exclude={"version", "tags", "corporate", "individual"})
    for name, value in fields.items():
        setattr(customer, name, value)
    if "name" in fields and data.name:
        customer.name_initials = initials(data.name)
    if "region_code" in fields:
        customer.region_name = region_name(data.region_code)
    if data.tags is not None:
        _set_tags(session, customer_id=customer_id, names=data.tags)
    if data.corporate is not None:
        profile = session.get(CorporateProfile, customer_id)
        if profile is None:
            raise unprocessable("This customer is not corporate.", code="wrong-kind")
        for name, value in data.corporate.model_dump(exclude_unset=True).items():
            setattr(profile, name, value)
        session.add(profile)
    if data.individual is not None:
        ind_profile = session.get(IndividualProfile, customer_id)
        if ind_profile is None:
            raise unprocessable("This customer is not an individual.", code="wrong-kind")
        for name, value in data.individual.model_dump(exclude_unset=True).items():
            setattr(ind_profile, name, value)
        session.add(ind_profile)
    session.add(customer)
    audit.record(
        session,
        actor_id=user.id,
        action="customer.update",
        object_type="customer",
        object_id=customer_id,
        ip=ip,
        detail={"fields": sorted(data.model_dump(exclude_unset=True, exclude={"version"}).keys())},
    )
    events.publish(session, "customer.changed", {"customer_id": customer_id, "owner_id": customer.owner_id})
    session.commit()
    return customer


def reveal_field(
    session: Session, *, user: User, customer_id: int, field: str, reason: str, data_key: str, ip: str | None
) -> str | None:
    """The unmasked value, for the owning RM only, always audited with the reason given."""
    customer = get_customer_for(session, user=user, customer_id=customer_id, write=True)
    if field == "phone":
        value = customer.phone
    else:
        ind = session.get(IndividualProfile, customer_id)
        value = decrypt_field(ind.id_number_encrypted, data_key) if ind else None
    audit.record(
        session,
        actor_id=user.id,
        action="customer.reveal",
        object_type="customer",
        object_id=customer_id,
        ip=ip,
        detail={"field": field, "reason": reason},
    )
    session.commit()
    return value
