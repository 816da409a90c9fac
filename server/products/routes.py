from __future__ import annotations

from flask import Blueprint
from spectree import Response

from server import db
from server.api import ok, spec
from server.errors import forbidden
from server.org.models import Role
from server.products import service
from server.products.schemas import SellableDetail, SellableList
from server.schemas import problems
from server.security import current_user

bp = Blueprint("products", __name__, url_prefix="/api/v1/products")


def _rm():
    user = current_user()
    if user.role != Role.rm:
        raise forbidden("Sellable products are per relationship manager.")
    return user


@bp.get("/sellable")
@spec.validate(resp=Response(HTTP_200=SellableList, **problems(403)), tags=["products"])
def sellable():
    return ok({"items": service.list_sellable(db.session(), rm=_rm())}, personal=True)


@bp.get("/sellable/<int:product_id>")
@spec.validate(resp=Response(HTTP_200=SellableDetail, **problems(403, 404)), tags=["products"])
def sellable_detail(product_id: int):
    return ok(service.sellable_detail(db.session(), rm=_rm(), product_id=product_id), personal=True)
