from __future__ import annotations

from flask import Blueprint, Response, current_app, request
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from spectree import Response as Responses

from server import db
from server.api import body, idempotent, ok, spec
from server.db import row_id
from server.errors import field_errors_from_pydantic, unprocessable
from server.push import service, vapid
from server.push.channels import CHANNELS
from server.push.schemas import SubscriptionCreated, Subscriptions, VapidPublicKey
from server.schemas import problems
from server.security import current_user

bp = Blueprint("push", __name__, url_prefix="/api/v1/push")


ENDPOINT = r"^https?://[^\s/]+/\S*$"  # as the browser gave it, byte for byte


class SubscriptionKeys(BaseModel):
    model_config = ConfigDict(extra="forbid")
    p256dh: str = Field(min_length=80, max_length=100)
    auth: str = Field(min_length=16, max_length=32)


class SubscriptionIn(BaseModel):
    """PushSubscription.toJSON() from the browser (expirationTime is ignored)."""

    model_config = ConfigDict(extra="forbid")
    endpoint: str = Field(max_length=2000, pattern=ENDPOINT)
    expirationTime: int | None = None  # noqa: N815  (the browser's own field name)
    keys: SubscriptionKeys


class SubscriptionRef(BaseModel):
    model_config = ConfigDict(extra="forbid")
    endpoint: str = Field(max_length=2000, pattern=ENDPOINT)


@bp.get("/vapid-public-key")
@spec.validate(resp=Responses(HTTP_200=VapidPublicKey), tags=["push"])
def vapid_public_key():
    settings = current_app.config["SETTINGS"]
    key = settings.VAPID_PUBLIC_KEY or vapid.public_key(settings.VAPID_PRIVATE_KEY)
    return ok(VapidPublicKey(public_key=key))


@bp.get("/subscriptions")
@spec.validate(resp=Responses(HTTP_200=Subscriptions), tags=["push"])
def list_subscriptions():
    user_id = row_id(current_user())
    devices = service.devices(db.session(), user_id=user_id)
    return ok(Subscriptions.model_validate({"items": devices, "channels": sorted(CHANNELS)}), personal=True)


@bp.post("/subscriptions")
@idempotent
@spec.validate(
    json=SubscriptionIn, resp=Responses(HTTP_201=SubscriptionCreated, **problems(409)), tags=["push"]
)
def subscribe():
    data: SubscriptionIn = body()
    sub = service.subscribe(
        db.session(),
        user_id=row_id(current_user()),
        endpoint=data.endpoint,
        p256dh=data.keys.p256dh,
        auth=data.keys.auth,
        user_agent=request.headers.get("User-Agent"),
        settings=current_app.config["SETTINGS"],
    )
    return ok(SubscriptionCreated(id=row_id(sub), endpoint_hash=sub.endpoint_hash), 201, personal=True)


@bp.delete("/subscriptions")
@idempotent
@spec.validate(resp=Responses("HTTP_204", **problems(404, 422)), tags=["push"])
def unsubscribe():
    """Body {endpoint}. Validated here: spectree does not read DELETE bodies."""
    try:
        data = SubscriptionRef.model_validate(request.get_json(silent=True) or {})
    except ValidationError as exc:
        raise unprocessable("Send {endpoint}.", errors=field_errors_from_pydantic(exc.errors())) from None
    service.unsubscribe(db.session(), user_id=row_id(current_user()), endpoint=data.endpoint)
    return Response(status=204)


@bp.delete("/subscriptions/<int:subscription_id>")
@idempotent
@spec.validate(resp=Responses("HTTP_204", **problems(404)), tags=["push"])
def remove_device(subscription_id: int):
    """A device of this user's, by id (the settings screen's device list)."""
    service.remove_device(db.session(), user_id=row_id(current_user()), subscription_id=subscription_id)
    return Response(status=204)
