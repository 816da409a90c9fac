from __future__ import annotations

from flask import Blueprint, current_app
from spectree import Response

from server import db
from server.api import body, idempotent, ok, spec
from server.errors import not_found
from server.knowledge import model as knowledge_model
from server.mirror import model as mirror_model
from server.org.models import Role
from server.overrides import service as model_overrides
from server.schemas import problems
from server.security import client_ip, current_user, require_role
from server.workbench import customer360
from server.workbench.home import home
from server.workbench.schemas import (
    ConfigSaved,
    ConfigUpdate,
    Customer360,
    HomePage,
    VisitCreate,
    VisitLogged,
    WorkbenchConfig,
)

bp = Blueprint("workbench", __name__, url_prefix="/api/v1")

CONFIGURABLE = {"knowledge": knowledge_model.validate_overrides, "mirror": mirror_model.validate_overrides}


@bp.get("/home")
@spec.validate(resp=Response(HTTP_200=HomePage), tags=["home"])
def home_page():
    """The home cards for the signed-in user's persona."""
    return ok(home(db.session(), user=current_user()), personal=True)


@bp.get("/customers/<int:customer_id>/360")
@spec.validate(resp=Response(HTTP_200=Customer360, **problems(403, 404)), tags=["customer 360"])
def customer_360(customer_id: int):
    data = customer360.customer_360(
        db.session(),
        user=current_user(),
        customer_id=customer_id,
        data_key=current_app.config["SETTINGS"].DATA_KEY,
    )
    return ok(data, personal=True)


@bp.post("/customers/<int:customer_id>/visits")
@idempotent
@spec.validate(
    json=VisitCreate, resp=Response(HTTP_201=VisitLogged, **problems(403, 404)), tags=["customer 360"]
)
def log_visit(customer_id: int):
    """Log a visit or call; facts learned raise the knowledge degree, the next step becomes a reminder.
    Send an Idempotency-Key: the offline outbox replays it safely."""
    data = customer360.log_visit(
        db.session(), user=current_user(), customer_id=customer_id, data=body(), ip=client_ip()
    )
    return ok(data, 201, personal=True)


@bp.get("/admin/workbench-config/<name>")
@require_role(Role.admin)
@spec.validate(resp=Response(HTTP_200=WorkbenchConfig, **problems(403, 404)), tags=["admin"])
def get_config(name: str):
    if name not in CONFIGURABLE:
        raise not_found("configuration")
    overrides, version = model_overrides.get_overrides(db.session(), name)
    return ok({"name": name, "version": version, "overrides": overrides, "effective": _effective(name)})


@bp.put("/admin/workbench-config/<name>")
@require_role(Role.admin)
@spec.validate(
    json=ConfigUpdate, resp=Response(HTTP_200=ConfigSaved, **problems(403, 404, 412)), tags=["admin"]
)
def put_config(name: str):
    if name not in CONFIGURABLE:
        raise not_found("configuration")
    data: ConfigUpdate = body()
    version = model_overrides.set_overrides(
        db.session(),
        name=name,
        value=data.value,
        expected_version=data.version,
        validate=CONFIGURABLE[name],
        actor=current_user(),
        ip=client_ip(),
    )
    return ok({"name": name, "version": version, "effective": _effective(name)})


def _effective(name: str):
    session = db.session()
    if name == "knowledge":
        return knowledge_model.load_model(session).describe()
    return mirror_model.load_weights(session)
