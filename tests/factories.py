"""Factories for test data. Every call makes fresh rows with unique names, so tests share one
database without stepping on each other."""

from __future__ import annotations

import itertools
import random
from datetime import date

from sqlmodel import Session

from server.auth.service import hash_password
from server.crypto import encrypt_field, field_digest
from server.customers.models import (
    CorporateProfile,
    Customer,
    CustomerKind,
    IndividualProfile,
    OwnershipChange,
)
from server.intel.models import IntelAlert, IntelItem
from server.opportunities.schemas import OpportunityCreate
from server.org.models import Branch, Persona, RmProfile, Role, Team, User
from server.pinyin import initials
from server.products.models import Product
from server.validators import id_birth_date, id_check_char, uscc_check_char

PASSWORD = "demo1234"
_seq = itertools.count(1)
_rng = random.Random(20261129)
# argon2 is slow on purpose; hash the shared test password once.
_PASSWORD_HASH = hash_password(PASSWORD)


def unique(prefix: str) -> str:
    return f"{prefix}{next(_seq)}_{_rng.randrange(10**6):06d}"


def make_branch(session: Session, **fields) -> Branch:
    n = next(_seq)
    branch = Branch(
        code=fields.pop("code", f"B{n:05d}{_rng.randrange(1000):03d}"),
        name=fields.pop("name", f"测试支行{n}"),
        city=fields.pop("city", "上海"),
        region_code=fields.pop("region_code", "310000"),
        latitude=31.23,
        longitude=121.47,
        **fields,
    )
    session.add(branch)
    session.commit()
    return branch


def make_user(
    session: Session,
    *,
    role: Role = Role.rm,
    persona: Persona | None = Persona.general,
    branch: Branch | None = None,
    team: Team | None = None,
    username: str | None = None,
    qualifications: list[str] | None = None,
    **fields,
) -> User:
    branch = branch or make_branch(session)
    user = User(
        username=username or unique(role.value + "_"),
        display_name=fields.pop("display_name", "测试用户"),
        password_hash=_PASSWORD_HASH,
        role=role,
        branch_id=branch.id,
        team_id=team.id if team else None,
        **fields,
    )
    session.add(user)
    session.flush()
    if role == Role.rm:
        session.add(
            RmProfile(
                user_id=user.id,
                persona=persona or Persona.general,
                hire_date=date(2022, 3, 1),
                grade="中级",
                qualifications=qualifications or [],
                languages=["zh"],
                home_region=branch.region_code,
            )
        )
    session.commit()
    return user


def make_team(session: Session, *, lead: User | None = None, branch: Branch | None = None) -> Team:
    branch = branch or make_branch(session)
    lead = lead or make_user(session, role=Role.team_lead, persona=None, branch=branch)
    team = Team(name=unique("团队"), branch_id=branch.id, lead_id=lead.id)
    session.add(team)
    session.commit()
    lead.team_id = team.id
    session.add(lead)
    session.commit()
    return team


def credit_code() -> str:
    body = "91" + "310000" + "".join(_rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(9))
    return body + uscc_check_char(body)


_issued_ids: set[str] = set()


def id_number(born: date | None = None) -> str:
    """A valid-format, never-repeated (fake) resident ID number."""
    while True:
        day = born or date.fromordinal(date(1960, 1, 1).toordinal() + _rng.randrange(15000))
        body = "310104" + day.strftime("%Y%m%d") + f"{_rng.randrange(1000):03d}"
        number = body + id_check_char(body)
        if number not in _issued_ids:
            _issued_ids.add(number)
            return number


def make_customer(
    session: Session,
    *,
    owner: User,
    kind: CustomerKind = CustomerKind.corporate,
    name: str | None = None,
    data_key: str,
    phone: str | None = "13812345678",
    **fields,
) -> Customer:
    name = name or (unique("测试科技有限公司") if kind == CustomerKind.corporate else unique("张"))
    customer = Customer(
        kind=kind,
        name=name,
        name_initials=initials(name),
        owner_id=owner.id,
        branch_id=owner.branch_id,
        region_code=fields.pop("region_code", "310000"),
        region_name="上海市",
        industry_code=fields.pop("industry_code", "C36" if kind == CustomerKind.corporate else None),
        phone=phone,
        **fields,
    )
    session.add(customer)
    session.flush()
    if kind == CustomerKind.corporate:
        session.add(CorporateProfile(customer_id=customer.id, credit_code=credit_code()))
    else:
        number = id_number()
        session.add(
            IndividualProfile(
                customer_id=customer.id,
                birth_date=id_birth_date(number),
                id_number_encrypted=encrypt_field(number, data_key),
                id_number_digest=field_digest(number, data_key),
            )
        )
    session.add(OwnershipChange(customer_id=customer.id, rm_id=owner.id, reason="created"))
    session.commit()
    return customer


def make_alert(session: Session, *, rm: User, customer: Customer, title: str, score: int = 80) -> IntelAlert:
    """An intel alert naming the RM's customer, as the matching job stores it."""
    item = IntelItem(fingerprint=unique("fp"), category="tender_contract", title=title)
    session.add(item)
    session.flush()
    alert = IntelAlert(
        item_id=item.id,
        customer_id=customer.id,
        rm_id=rm.id,
        category="tender_contract",
        score=score,
        reason="情报点名该客户",
        sentiment="favourable",
    )
    session.add(alert)
    session.commit()
    return alert


def make_product(session: Session, *, qualification: str | None = None) -> Product:
    product = Product(
        code=unique("P")[:16],
        name=unique("测试产品")[:64],
        category="fund" if qualification else "loan",
        segment="corporate",
        terms="一年期",
        required_qualification=qualification,
    )
    session.add(product)
    session.commit()
    return product


def opportunity_data(**fields) -> OpportunityCreate:
    """A valid opportunity to create through the service, prospect by default."""
    data = {"title": "代发工资", "prospect_name": "潜客", "region_code": "310000", "industry_code": "C36"}
    data.update(fields)
    return OpportunityCreate.model_validate(data)


def pdf_document(pages: list[str]) -> bytes:
    """A small valid PDF, one line of (ASCII) text per page, with a correct xref table: a PDF
    proposal for the shared stage that real readers (pdf.js) open."""
    objects: list[bytes] = []
    n = len(pages)
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(n))
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {n} >>".encode())
    font = 3 + 2 * n
    for i, text in enumerate(pages):
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 200] /Contents {4 + 2 * i} 0 R "
            f"/Resources << /Font << /F1 {font} 0 R >> >> >>".encode()
        )
        stream = f"BT /F1 24 Tf 40 100 Td ({text}) Tj ET".encode()
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)
