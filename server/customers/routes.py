from __future__ import annotations

from flask import Blueprint, current_app
from spectree import Response

from server import db
from server.api import body, expected_version, idempotent, ok, query, spec
from server.customers import service
from server.customers.schemas import (
    CustomerCreate,
    CustomerDetail,
    CustomerListQuery,
    CustomerPage,
    CustomerReference,
    CustomerUpdate,
    RevealRequest,
    RevealResult,
)
from server.errors import too_many_requests
from server.ratelimit import hit
from server.redis_client import get_redis
from server.reference import INDUSTRIES, REGIONS
from server.schemas import problems
from server.security import client_ip, current_user

bp = Blueprint("customers", __name__, url_prefix="/api/v1/customers")


def _data_key() -> str:
    return current_app.config["SETTINGS"].DATA_KEY


@bp.get("/reference")
@spec.validate(resp=Response(HTTP_200=CustomerReference), tags=["customers"])
def reference():
    """The industries (GB/T 4754) and regions (GB/T 2260) the bank uses, for pickers."""
    return ok(
        {
            "industries": [{"code": c, "name": n} for c, n in INDUSTRIES.items()],
            "regions": [{"code": c, "name": r["name"]} for c, r in REGIONS.items()],
        }
    )


@bp.get("")
@spec.validate(
    query=CustomerListQuery, resp=Response(HTTP_200=CustomerPage, **problems(403)), tags=["customers"]
)
def list_customers():
    q: CustomerListQuery = query()
    rows, total = service.list_customers(db.session(), user=current_user(), query=q)
    page = {
        "items": service.summaries(db.session(), rows),
        "total": total,
        "page": q.page,
        "page_size": q.page_size,
    }
    return ok(page, personal=True)


@bp.get("/<int:customer_id>")
@spec.validate(resp=Response(HTTP_200=CustomerDetail, **problems(403, 404)), tags=["customers"])
def get_customer(customer_id: int):
    customer = service.get_customer_for(db.session(), user=current_user(), customer_id=customer_id)
    response = ok(service.detail(db.session(), customer=customer, data_key=_data_key()), personal=True)
    response.headers["ETag"] = f'"{customer.version}"'
    return response


@bp.post("")
@idempotent
@spec.validate(
    json=CustomerCreate, resp=Response(HTTP_201=CustomerDetail, **problems(403, 409)), tags=["customers"]
)
def create_customer():
    customer = service.create_customer(
        db.session(), user=current_user(), data=body(), data_key=_data_key(), ip=client_ip()
    )
    response = ok(service.detail(db.session(), customer=customer, data_key=_data_key()), 201, personal=True)
    response.headers["ETag"] = f'"{customer.version}"'
    return response


@bp.patch("/<int:customer_id>")
@idempotent
@spec.validate(
    json=CustomerUpdate, resp=Response(HTTP_200=CustomerDetail, **problems(404, 409, 412)), tags=["customers"]
)
def update_customer(customer_id: int):
    data: CustomerUpdate = body()
    customer = service.update_customer(
        db.session(),
        user=current_user(),
        customer_id=customer_id,
        data=data,
        expected_version=expected_version(data.version),
        ip=client_ip(),
    )
    response = ok(service.detail(db.session(), customer=customer, data_key=_data_key()), personal=True)
    response.headers["ETag"] = f'"{customer.version}"'
    return response


@bp.post("/<int:customer_id>/reveal")
@spec.validate(
    json=RevealRequest, resp=Response(HTTP_200=RevealResult, **problems(403, 404, 429)), tags=["customers"]
)
def reveal(customer_id: int):
    """Unmasked phone or ID number for the owning RM; audited with the reason given and rate-limited
    per user (REVEAL_RATE_PER_HOUR)."""
    data: RevealRequest = body()
    user = current_user()
    limit = current_app.config["SETTINGS"].REVEAL_RATE_PER_HOUR
    allowed, retry_after = hit(get_redis(), f"reveal:{user.id}", limit=limit, window_seconds=3600)
    if not allowed:
        raise too_many_requests("Too many reveals; wait a while.", retry_after=retry_after)
    value = service.reveal_field(
        db.session(),
        user=current_user(),
        customer_id=customer_id,
        field=data.field,
        reason=data.reason,
        data_key=_data_key(),
        ip=client_ip(),
    )
    return ok({"field": data.field, "value": value}, personal=True)
