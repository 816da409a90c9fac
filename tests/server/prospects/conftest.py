from __future__ import annotations

import itertools
import random
from datetime import date, timedelta

import pytest

from server.customers.models import CorporateProfile
from server.prospects.models import Prospect, ProspectLink
from server.validators import uscc_check_char
from tests import factories

_serial = itertools.count(1)
_rng = random.Random(15)
# Each world sits on its own spot, ~28 km from the next: the test database is shared by the whole
# run, and other tests put thousands of prospects around the default point.
_spots = itertools.count()


def _spot() -> tuple[float, float]:
    n = next(_spots)
    return 24.0 + 0.25 * (n % 30), 104.0 + 0.25 * (n // 30)


def credit_code(region: str = "310000") -> str:
    body = (
        "91"
        + region
        + f"{next(_serial):04d}"
        + "".join(_rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(5))
    )
    return body + uscc_check_char(body)


def make_prospect(
    session, *, name: str | None = None, lat: float = 31.23, lng: float = 121.47, **fields
) -> Prospect:
    prospect = Prospect(
        name=name or factories.unique("上海测试科技有限公司"),
        credit_code=fields.pop("credit_code") if "credit_code" in fields else credit_code(),
        industry_code=fields.pop("industry_code", "C39"),
        size=fields.pop("size", "small"),
        ownership="private",
        registered_capital_cents=fields.pop("registered_capital_cents", 500_000_000),
        founded_on=fields.pop("founded_on", date.today() - timedelta(days=3000)),
        region_code=fields.pop("region_code", "310000"),
        latitude=lat,
        longitude=lng,
        **fields,
    )
    session.add(prospect)
    session.commit()
    return prospect


def link(
    session,
    prospect: Prospect,
    *,
    kind: str = "supplier",
    customer_id: int | None = None,
    other: Prospect | None = None,
):
    session.add(
        ProspectLink(
            prospect_id=prospect.id,
            kind=kind,
            customer_id=customer_id,
            other_prospect_id=other.id if other else None,
        )
    )
    session.commit()


def customer_code(session, customer) -> str:
    return session.get(CorporateProfile, customer.id).credit_code


@pytest.fixture
def sinks(app):
    """The prospect job sink, as a worker-enabled process installs it at start."""
    from server import events
    from tasks.prospects import on_event

    events.add_sink(on_event)
    yield
    events.remove_sink(on_event)


@pytest.fixture
def world(db_session, data_key):
    """Two RMs of one team, a handful of customers and prospects, around `center` (lat, lng)."""
    lat, lng = _spot()
    team = factories.make_team(db_session)
    lead = db_session.get(factories.User, team.lead_id)
    rm_a = factories.make_user(db_session, team=team)
    rm_b = factories.make_user(db_session, team=team)
    customers = [
        factories.make_customer(
            db_session,
            owner=rm_a if k % 2 == 0 else rm_b,
            data_key=data_key,
            industry_code="C39",
            size="medium",
            latitude=lat - 0.03,
            longitude=lng - 0.07,
        )
        for k in range(12)
    ]
    prospects = [make_prospect(db_session, lat=lat + k * 0.001, lng=lng) for k in range(6)]
    return {
        "team": team,
        "lead": lead,
        "a": rm_a,
        "b": rm_b,
        "customers": customers,
        "prospects": prospects,
        "center": (lat, lng),
        "near": lambda km: f"near={lat},{lng},{km}",
    }
