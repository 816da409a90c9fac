from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from server.customers.models import EnterpriseSize
from server.schemas import Strict

Size = Literal["large", "medium", "small", "micro"]


class ProspectQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    industry: str | None = Field(default=None, max_length=8, pattern=r"^[A-Z]\d{0,2}$")
    size: Size | None = None
    min_score: float | None = Field(default=None, ge=0, le=100)
    near: str | None = Field(default=None, max_length=64, description="lat,lng,km")
    mine: bool = False
    limit: int = Field(default=50, ge=1, le=200)
    offset: int = Field(default=0, ge=0, le=100_000)

    @field_validator("near")
    @classmethod
    def _near(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            lat, lng, km = (float(p) for p in value.split(","))
        except ValueError:
            raise ValueError("near is lat,lng,km") from None
        if not (-90 <= lat <= 90 and -180 <= lng <= 180 and 0 < km <= 200):
            raise ValueError("near is out of range (km up to 200)")
        return value

    def near_tuple(self) -> tuple[float, float, float] | None:
        if not self.near:
            return None
        lat, lng, km = (float(p) for p in self.near.split(","))
        return lat, lng, km

    def filters(self) -> dict:
        return {
            "industry": self.industry,
            "size": self.size,
            "min_score": self.min_score,
            "near": self.near_tuple(),
            "mine": self.mine,
        }


class MapQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    industry: str | None = Field(default=None, max_length=8, pattern=r"^[A-Z]\d{0,2}$")
    size: Size | None = None
    min_score: float | None = Field(default=None, ge=0, le=100)
    near: str | None = Field(default=None, max_length=64)
    mine: bool = False

    _near = field_validator("near")(ProspectQuery._near.__func__)  # type: ignore[attr-defined]

    def filters(self) -> dict:
        return ProspectQuery(**self.model_dump()).filters()


class Activity(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["visit_planned", "visited", "shared", "war_room", "note"]
    note: str | None = Field(default=None, max_length=500)
    at: datetime | None = None


class TrainRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    seeds_kind: Literal["default", "best_revenue", "customers"] = "default"
    customer_ids: list[int] = Field(default_factory=list, max_length=5000)


class ImportFetch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    source_id: int = Field(ge=1)


class ImportUpload(BaseModel):
    model_config = ConfigDict(extra="forbid")
    source_id: int = Field(ge=1)
    filename: str = Field(min_length=1, max_length=128)
    content_base64: str = Field(min_length=4, max_length=1_000_000)


class ImportListQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    limit: int = Field(default=20, ge=1, le=100)
    offset: int = Field(default=0, ge=0, le=100_000)


class ImportErrorsQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    limit: int = Field(default=50, ge=1, le=200)
    offset: int = Field(default=0, ge=0, le=100_000)


# --- responses -----------------------------------------------------------------------------------


class ProspectSummary(Strict):
    id: int
    name: str
    industry_code: str | None
    industry: str | None
    size: Size | None
    region_code: str | None
    region: str | None
    lat: float | None
    lng: float | None
    score: float | None = Field(description="0-100 in the model version in force; null without one")
    claimed_by_me: bool
    distance_km: float | None = Field(description="with `near`: from the point asked about")


class ProspectPage(Strict):
    items: list[ProspectSummary]
    has_more: bool
    model_id: int | None


class MapCustomer(Strict):
    """Only customers placed on the map (with a latitude)."""

    id: int
    name: str
    lat: float
    lng: float | None


class MapProspect(Strict):
    id: int
    name: str
    lat: float | None
    lng: float | None
    score: float | None
    industry_code: str | None
    size: Size | None
    mine: bool


class ProspectMap(Strict):
    """The RM's own customers (a lead: the team's) and the best-scored visible prospects."""

    customers: list[MapCustomer]
    prospects: list[MapProspect]
    model_id: int | None
    tile_url: str | None


class FeatureProperties(Strict):
    kind: Literal["boundary", "ring_road", "road", "river", "label"]
    name: str | None = None
    code: str | None = Field(default=None, description="boundaries: the city's GB/T 2260 code")


class PointGeometry(Strict):
    type: Literal["Point"]
    coordinates: list[float] = Field(description="[lng, lat]")


class LineStringGeometry(Strict):
    type: Literal["LineString"]
    coordinates: list[list[float]]


class PolygonGeometry(Strict):
    type: Literal["Polygon"]
    coordinates: list[list[list[float]]]


class BaseMapFeature(Strict):
    type: Literal["Feature"]
    properties: FeatureProperties
    geometry: Annotated[PointGeometry | LineStringGeometry | PolygonGeometry, Field(discriminator="type")]


class BaseMap(Strict):
    """GeoJSON (a FeatureCollection): every city's outline, ring roads, arterial roads, a river and
    its label, for the map without third-party tiles."""

    type: Literal["FeatureCollection"]
    features: list[BaseMapFeature]


class ProspectConfig(Strict):
    tile_url: str | None = Field(description="the bank's own tiles (天地图, 高德 ...); null: the base map")
    claim_days: int


class CoverageRegion(Strict):
    region_code: str | None
    region: str | None
    claimed: int
    visited: int
    converted: int


class Coverage(Strict):
    """A team lead's: by region, prospects the team holds now, has visited and has converted."""

    items: list[CoverageRegion]
    team_size: int


class FieldSource(Strict):
    source: str
    at: str
    source_id: int | None = None


class ReasonFactor(Strict):
    text: str
    weight: float


class SimilarCustomer(Strict):
    """Masked unless the customer is the user's own (`id` only then)."""

    name: str
    mine: bool
    id: int | None
    industry: str | None
    size: EnterpriseSize | None
    region: str | None


class PathStep(Strict):
    kind: Literal["prospect", "customer"]
    name: str
    via: str | None = Field(description="the tie from the step before (供应商, 股东 ...); null first")


class ProspectReasons(Strict):
    factors: list[ReasonFactor]
    similar_customers: list[SimilarCustomer]
    path: list[PathStep] | None = Field(description="the shortest chain to a customer of the bank")
    path_text: str | None


class ProspectActivityPublic(Strict):
    kind: str
    at: str
    note: str | None


class ProspectDetail(ProspectSummary):
    credit_code: str | None
    ownership: str | None
    registered_capital_cents: int | None
    founded_on: str | None
    address: str | None
    park: str | None
    claimed_until: str | None = Field(description="the user's own claim only")
    sources: dict[str, FieldSource] = Field(description="per field: where and when it was learned")
    model_id: int | None
    reasons: ProspectReasons
    activities: list[ProspectActivityPublic] = Field(description="the user's own, latest 20")
    version: int


class ClaimResult(Strict):
    id: int
    claimed_until: str


class ReleaseResult(Strict):
    id: int
    released: bool


class ActivityRecorded(Strict):
    id: int
    kind: str
    at: str


class ModelMetrics(Strict):
    """Empty until the version is trained."""

    seeds: int | None = None
    unlabelled: int | None = None
    c: float | None = None
    dropped: list[str] | None = None
    seconds: float | None = None
    ties: Literal["seeds", "outcomes"] | None = Field(
        default=None, description="where the graph features' weights come from"
    )
    outcomes: int | None = Field(default=None, description="developed prospects whose outcome was seen")
    conversions: int | None = Field(default=None, description="of those, how many became customers")
    family_scale: float | None = Field(
        default=None, description="the seeds' firm-family score's weight in the outcomes' fit"
    )


class ModelPublic(Strict):
    id: int
    status: Literal["queued", "running", "done", "failed"]
    seeds_kind: Literal["default", "best_revenue", "customers"]
    seeds: int
    error: str | None
    metrics: ModelMetrics
    trained_at: str | None


class ModelVersion(Strict):
    """A version with its real hit rate: of the prospects it ranked in its top 5 %, the share that
    became customers, beside the share of all it scored."""

    id: int
    owner_id: int | None = Field(description="null: the bank's version")
    seeds_kind: Literal["default", "best_revenue", "customers"]
    seeds: int
    status: Literal["queued", "running", "done", "failed"]
    error: str | None
    trained_at: str | None
    scored: int
    converted: int
    top5_scored: int
    top5_converted: int
    hit_rate_top5: float | None
    conversion_rate: float | None
    lift_top5: float | None
    dropped: list[str]


class ModelVersionList(Strict):
    items: list[ModelVersion]


class ImportRowError(Strict):
    line: int | None
    field: str | None
    page: int | None = Field(default=None, description="a fetched API's page the row or failure came from")
    reason: str
    code: str | None = None


class ImportSummary(Strict):
    id: int
    source_id: int
    kind: Literal["fetch", "file"]
    filename: str
    status: Literal["queued", "running", "done", "failed"]
    rows: int
    processed: int
    created: int
    updated: int
    unchanged: int
    merged: int
    error_count: int
    created_at: str
    finished_at: str | None


class ImportPublic(ImportSummary):
    errors: list[ImportRowError] = Field(description="all of them (`/errors` pages through them)")


class ImportStarted(ImportPublic):
    already_imported: bool = Field(description="the same file was imported before (200, not 202)")


class ImportPage(Strict):
    """The most recent imports first, without their errors."""

    items: list[ImportSummary]
    limit: int
    offset: int
    has_more: bool


class ImportErrorPage(Strict):
    """One import's bad rows (or its failure), in the order they were found."""

    items: list[ImportRowError]
    total: int
    limit: int
    offset: int
    has_more: bool
