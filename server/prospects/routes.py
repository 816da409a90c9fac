from __future__ import annotations

from flask import Blueprint, current_app
from spectree import Response

from server import db, outbound
from server.api import base64_field, body, idempotent, ok, query, spec
from server.errors import not_found
from server.org.models import Role
from server.prospects import basemap, claims, conversions, detail, imports, listing, versions
from server.prospects.models import ProspectImport
from server.prospects.schemas import (
    Activity,
    ActivityRecorded,
    BaseMap,
    ClaimResult,
    Coverage,
    ImportErrorPage,
    ImportErrorsQuery,
    ImportFetch,
    ImportListQuery,
    ImportPage,
    ImportPublic,
    ImportStarted,
    ImportUpload,
    MapQuery,
    ModelPublic,
    ModelVersionList,
    ProspectConfig,
    ProspectDetail,
    ProspectMap,
    ProspectPage,
    ProspectQuery,
    ReleaseResult,
    TrainRequest,
)
from server.schemas import problems
from server.security import client_ip, current_user, require_role

bp = Blueprint("prospects", __name__, url_prefix="/api/v1/prospects")


@bp.get("")
@spec.validate(query=ProspectQuery, resp=Response(HTTP_200=ProspectPage, **problems(403)), tags=["prospects"])
def list_prospects():
    q: ProspectQuery = query()
    result = listing.list_prospects(
        db.session(), user=current_user(), limit=q.limit, offset=q.offset, **q.filters()
    )
    return ok(result, personal=True)


@bp.get("/map")
@spec.validate(query=MapQuery, resp=Response(HTTP_200=ProspectMap, **problems(403)), tags=["prospects"])
def map_points():
    q: MapQuery = query()
    return ok(listing.map_points(db.session(), user=current_user(), **q.filters()), personal=True)


@bp.get("/basemap")
@spec.validate(resp=Response(HTTP_200=BaseMap), tags=["prospects"])
def base_map():
    response = ok(basemap.base_map())
    response.headers["Cache-Control"] = "public, max-age=86400"  # no personal data: kept for offline use
    return response


@bp.get("/config")
@spec.validate(resp=Response(HTTP_200=ProspectConfig), tags=["prospects"])
def config():
    settings = current_app.config["SETTINGS"]
    return ok(
        ProspectConfig(tile_url=settings.PROSPECT_TILE_URL or None, claim_days=settings.PROSPECT_CLAIM_DAYS)
    )


@bp.get("/coverage")
@spec.validate(resp=Response(HTTP_200=Coverage, **problems(403)), tags=["prospects"])
def coverage():
    return ok(Coverage.model_validate(conversions.coverage(db.session(), user=current_user())), personal=True)


@bp.get("/<int:prospect_id>")
@spec.validate(resp=Response(HTTP_200=ProspectDetail, **problems(403, 404)), tags=["prospects"])
def get_prospect(prospect_id: int):
    return ok(
        detail.detail(db.session(), user=current_user(), prospect_id=prospect_id, ip=client_ip()),
        personal=True,
    )


@bp.post("/<int:prospect_id>/claim")
@idempotent
@spec.validate(resp=Response(HTTP_200=ClaimResult, **problems(403, 404)), tags=["prospects"])
def claim(prospect_id: int):
    claimed = claims.claim(db.session(), user=current_user(), prospect_id=prospect_id, ip=client_ip())
    return ok(ClaimResult.model_validate(claimed))


@bp.post("/<int:prospect_id>/release")
@idempotent
@spec.validate(resp=Response(HTTP_200=ReleaseResult, **problems(404)), tags=["prospects"])
def release(prospect_id: int):
    released = claims.release(db.session(), user=current_user(), prospect_id=prospect_id, ip=client_ip())
    return ok(ReleaseResult.model_validate(released))


@bp.post("/<int:prospect_id>/activities")
@idempotent
@spec.validate(
    json=Activity, resp=Response(HTTP_201=ActivityRecorded, **problems(403, 404, 409)), tags=["prospects"]
)
def add_activity(prospect_id: int):
    data: Activity = body()
    result = claims.add_activity(
        db.session(), user=current_user(), prospect_id=prospect_id, kind=data.kind, note=data.note, at=data.at
    )
    return ok(ActivityRecorded.model_validate(result), 201)


# --- lookalike versions ----------------------------------------------------------------------


@bp.get("/models")
@require_role(Role.admin)
@spec.validate(resp=Response(HTTP_200=ModelVersionList, **problems(403)), tags=["prospects-admin"])
def list_models():
    return ok(
        ModelVersionList.model_validate({"items": versions.model_versions(db.session(), user=current_user())})
    )


@bp.post("/models")
@idempotent
@spec.validate(
    json=TrainRequest, resp=Response(HTTP_202=ModelPublic, **problems(403, 404)), tags=["prospects"]
)
def train():
    data: TrainRequest = body()
    model = versions.request_training(
        db.session(),
        user=current_user(),
        seeds_kind=data.seeds_kind,
        customer_ids=data.customer_ids,
        ip=client_ip(),
    )
    return ok(versions.model_public(model), 202)


@bp.get("/models/<int:model_id>")
@spec.validate(resp=Response(HTTP_200=ModelPublic, **problems(404)), tags=["prospects"])
def get_model(model_id: int):
    return ok(
        versions.model_public(versions.get_model_for(db.session(), user=current_user(), model_id=model_id))
    )


# --- registry uploads --------------------------------------------------------------------------


@bp.post("/imports")
@require_role(Role.admin)
@idempotent
@spec.validate(
    json=ImportUpload,
    resp=Response(HTTP_200=ImportStarted, HTTP_202=ImportStarted, **problems(403, 404, 409)),
    tags=["prospects-admin"],
)
def upload():
    data: ImportUpload = body()
    content = base64_field(data.content_base64)
    batch, created = imports.start_import(
        db.session(),
        actor=current_user(),
        source_id=data.source_id,
        filename=data.filename,
        content=content,
        ip=client_ip(),
    )
    return ok({**imports.import_public(batch), "already_imported": not created}, 202 if created else 200)


@bp.post("/imports/fetch")
@require_role(Role.admin)
@idempotent
@spec.validate(
    json=ImportFetch,
    resp=Response(HTTP_202=ImportPublic, **problems(403, 404, 409)),
    tags=["prospects-admin"],
)
def fetch_registry():
    data: ImportFetch = body()
    batch = imports.start_fetch(
        db.session(),
        actor=current_user(),
        source_id=data.source_id,
        policy=outbound.policy_for(current_app.config["SETTINGS"]),
        ip=client_ip(),
    )
    return ok(imports.import_public(batch), 202)


@bp.get("/imports")
@require_role(Role.admin)
@spec.validate(
    query=ImportListQuery, resp=Response(HTTP_200=ImportPage, **problems(403)), tags=["prospects-admin"]
)
def list_imports():
    q: ImportListQuery = query()
    return ok(imports.list_imports(db.session(), limit=q.limit, offset=q.offset))


def _import(import_id: int) -> ProspectImport:
    batch = db.session().get(ProspectImport, import_id)
    if batch is None:
        raise not_found("import")
    return batch


@bp.get("/imports/<int:import_id>")
@require_role(Role.admin)
@spec.validate(resp=Response(HTTP_200=ImportPublic, **problems(403, 404)), tags=["prospects-admin"])
def get_import(import_id: int):
    return ok(imports.import_public(_import(import_id)))


@bp.get("/imports/<int:import_id>/errors")
@require_role(Role.admin)
@spec.validate(
    query=ImportErrorsQuery,
    resp=Response(HTTP_200=ImportErrorPage, **problems(403, 404)),
    tags=["prospects-admin"],
)
def get_import_errors(import_id: int):
    q: ImportErrorsQuery = query()
    return ok(imports.import_errors(_import(import_id), limit=q.limit, offset=q.offset))
