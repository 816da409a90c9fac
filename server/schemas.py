"""The API's shared schema pieces: the one `Strict` base of request and response models, and the
problem details (RFC 9457) every error answers with.

Response models describe what a route sends, so that the OpenAPI document (and the PWA's types
generated from it) cannot drift from the code: each typed route declares them with spectree's
`resp=Response(HTTP_200=Model, **problems(404))`, and `server/api.py` checks each answer against
its model (a mismatch fails tests; in production it is logged and the answer still goes out)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class Strict(BaseModel):
    """Unknown fields are an error: a request cannot smuggle fields in, and a response that grows a
    field without its model fails the tests until the model (and so the OpenAPI document) says it."""

    model_config = ConfigDict(extra="forbid")


class PersonRef(Strict):
    id: int
    display_name: str


class FieldError(BaseModel):
    field: str | None
    message: str
    type: str | None = None


class ProblemDetails(BaseModel):
    """RFC 9457, sent as `application/problem+json`. `code` is what the PWA maps to its catalog
    strings; some problems carry a few more members (the claim race's winner, a stale version)."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    code: str
    detail: str | None = None
    errors: list[FieldError] | None = None


def problems(*statuses: int) -> dict[str, Any]:
    """`Response(...)` keyword arguments documenting these error statuses as problem details."""
    return {f"HTTP_{status}": ProblemDetails for status in statuses}
