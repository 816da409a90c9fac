"""Training a lookalike version and storing its scores. Called by the RQ job (tasks/prospects.py)
and, once, by the demo loader. Safe to run twice: a version's scores are replaced, never added to."""

from __future__ import annotations

import logging
import time
from datetime import date

import numpy as np
from sqlalchemy import Engine, delete, insert, update
from sqlmodel import Session, col

from server.prospects import lookalike
from server.prospects.features import Book, build_graph, load_book, load_outcomes, load_universe
from server.prospects.models import ProspectModel, ProspectScore
from server.timeutil import utcnow

log = logging.getLogger(__name__)

BEST_REVENUE_SHARE = 0.2  # "my best customers": the top fifth of an RM's book by revenue


def seed_mask(book: Book, *, kind: str, owner_id: int | None, customer_ids: list[int]) -> np.ndarray:
    """default: the bank's customers with new business in the last 12 months (an RM's own, when the
    version is an RM's); best_revenue: the RM's top fifth by revenue; customers: the ids given."""
    mine = book.owner_ids == owner_id if owner_id is not None else np.ones(len(book), dtype=bool)
    if kind == "customers":
        return np.isin(book.ids, np.asarray(customer_ids, dtype=np.int64)) & mine
    if kind == "best_revenue":
        if not mine.any():
            return mine
        cut = np.quantile(book.revenue[mine], 1 - BEST_REVENUE_SHARE)
        return mine & (book.revenue >= cut) & (book.revenue > 0)
    return book.new_business & mine


def run_training(session: Session, *, model_id: int, today: date | None = None) -> dict:
    model = session.get(ProspectModel, model_id)
    if model is None:
        return {"skipped": True}
    today = today or utcnow().date()
    started = time.perf_counter()
    session.execute(
        update(ProspectModel).where(col(ProspectModel.id) == model_id).values(status="running", error=None)
    )
    session.commit()
    try:
        conn = session.connection()
        book = load_book(conn, today=today)
        # Converted prospects stay in the graph (their ties are what they were as prospects) and
        # teach the tie weights with the other developed prospects; only open ones are scored.
        universe = load_universe(conn, book=book, today=today, with_converted=True)
        open_rows = np.flatnonzero(~universe.converted)
        seen, converted = load_outcomes(conn, universe=universe, now=utcnow())
        seeds = seed_mask(book, kind=model.seeds_kind, owner_id=model.owner_id, customer_ids=model.seed_ids)
        if seeds.sum() < 10 or len(open_rows) == 0:
            raise ValueError("too few seeds (at least 10 customers) or no prospects")
        graph = build_graph(book, universe)
        c = len(book)
        node_seeds = np.concatenate([seeds, np.zeros(len(universe), dtype=bool)])
        node_customers = np.concatenate([np.ones(c, dtype=bool), np.zeros(len(universe), dtype=bool)])
        node_top = np.concatenate([book.top, np.zeros(len(universe), dtype=bool)])
        feats = lookalike.graph_features(graph, seeds=node_seeds, customers=node_customers, top=node_top)
        rows = np.flatnonzero(seeds)
        prospect_feats = feats[c:]
        open_blocks = lookalike.take(universe.blocks, open_rows)
        fitted = lookalike.train(
            seed_blocks=lookalike.take(book.blocks, rows),
            seed_graph=feats[rows],
            unlabelled_blocks=open_blocks,
            unlabelled_graph=prospect_feats[open_rows],
            outcomes=lookalike.Outcomes(
                blocks=lookalike.take(universe.blocks, seen),
                graph=prospect_feats[seen],
                converted=converted,
            ),
            random_state=model_id,
        )
        raw = lookalike.raw_scores(fitted, open_blocks, prospect_feats[open_rows])
        pct = lookalike.percentiles(raw)
        session.execute(delete(ProspectScore).where(col(ProspectScore.model_id) == model_id))
        ids = universe.ids[open_rows].tolist()
        raw_list = np.round(raw, 4).tolist()
        pct_list = pct.tolist()
        for start in range(0, len(ids), 20_000):
            session.execute(
                insert(ProspectScore),
                [
                    {"model_id": model_id, "prospect_id": ids[i], "score": pct_list[i], "raw": raw_list[i]}
                    for i in range(start, min(len(ids), start + 20_000))
                ],
            )
        session.execute(
            update(ProspectModel)
            .where(col(ProspectModel.id) == model_id)
            .values(
                status="done",
                params=fitted.to_json(),
                metrics={**fitted.metrics, "seconds": round(time.perf_counter() - started, 2)},
                seed_ids=book.ids[rows].tolist(),
                scored=len(ids),
                trained_at=utcnow(),
            )
        )
        session.commit()
        log.info("prospect model %s: %d seeds, %d scored", model_id, len(rows), len(ids))
        return {"model_id": model_id, "seeds": int(len(rows)), "scored": len(ids)}
    except ValueError as exc:
        session.rollback()
        session.execute(
            update(ProspectModel)
            .where(col(ProspectModel.id) == model_id)
            .values(status="failed", error=str(exc)[:500])
        )
        session.commit()
        return {"model_id": model_id, "error": str(exc)}


def train_default_now(engine: Engine, *, today: date) -> int:
    """The bank's default version, trained in this process (the demo loader has no worker)."""
    with Session(engine) as session:
        model = ProspectModel(seeds_kind="default", status="queued")
        session.add(model)
        session.commit()
        model_id = int(model.id)  # type: ignore[arg-type]
        run_training(session, model_id=model_id, today=today)
    return model_id
