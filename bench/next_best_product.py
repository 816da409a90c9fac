"""Next best product, evaluated on the demo bank's history: each customer whose last purchase falls
in the final 6 months has that purchase held out; the model is trained on everything else (the
same `train` the nightly job runs) and ranks the products the customer may buy and does not hold.
Prints hit rate@3 for the model and for the popularity baseline (the most held products), and
their ratio (goal: at least 2x popularity).

    .venv/bin/python bench/next_best_product.py [--customers N] [--seed S] [--db PATH]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np
from _common import fresh_sqlite, peak_rss_mb, random_data_key

HOLDOUT_DAYS = 182
K = 3


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--db", type=Path, default=None, help="reuse an already loaded SQLite file")
    args = parser.parse_args()

    from sqlmodel import Session, select

    from server import db
    from server.assistant.recommender import load_history, may_buy
    from server.assistant.recommender_model import History, Recommender, popularity_rank, train
    from server.customers.models import Customer, IndividualProfile
    from server.demo.generator import load_demo_bank
    from server.products.models import Holding, Product, ProductFit

    with tempfile.TemporaryDirectory(prefix="zhanye-nbp-") as tmp:
        if args.db and args.db.exists():
            url = f"sqlite:///{args.db}"
        else:
            url = fresh_sqlite(
                args.db.parent if args.db else Path(tmp), args.db.name if args.db else "nbp.db"
            )
            started = time.perf_counter()
            load_demo_bank(
                db.get_engine(url), customers=args.customers, seed=args.seed, data_key=random_data_key()
            )
            print(f"loaded {args.customers:,} customers in {time.perf_counter() - started:.0f}s", flush=True)
        engine = db.get_engine(url)
        with Session(engine) as session:
            latest = session.exec(select(Holding.opened_on).order_by(Holding.opened_on.desc())).first()  # type: ignore[union-attr]
            today = date.fromisoformat(str(latest)) + timedelta(days=1)
            history = load_history(session, today=today)
            products = {p.id: p for p in session.exec(select(Product)).all()}
            fits = {f.product_id: f for f in session.exec(select(ProductFit)).all()}
            customers = {c.id: c for c in session.exec(select(Customer)).all()}
            appetite = dict(
                session.exec(select(IndividualProfile.customer_id, IndividualProfile.risk_appetite)).all()
            )
        cutoff = (today - timedelta(days=HOLDOUT_DAYS)).toordinal()
        opened = history.opened.copy()
        held_out: dict[int, int] = {}  # row -> product column
        for row in range(opened.shape[0]):
            mine = opened[row]
            if not (mine > 0).any():
                continue
            last = int(mine.argmax())
            if mine[last] >= cutoff:
                held_out[row] = last
                mine[last] = 0
        train_history = History(history.customer_ids, history.product_ids, opened, history.segments)
        started = time.perf_counter()
        model = Recommender(train(train_history, today=today))
        train_seconds = time.perf_counter() - started
        holders = (opened > 0).sum(axis=0).astype(float)
        hits_model = hits_pop = 0
        evaluated = 0
        buyable_misses = 0
        for row, column in held_out.items():
            cid = history.customer_ids[row]
            customer = customers[cid]
            allowed = [
                pid
                for pid, p in products.items()
                if may_buy(
                    p, fits.get(pid), kind=customer.kind, size=customer.size, appetite=appetite.get(cid)
                )
            ]
            target = history.product_ids[column]
            if target not in allowed:
                buyable_misses += 1  # the demo never sells what the customer may not buy: expected 0
                continue
            held = {
                history.product_ids[j]: date.fromordinal(int(opened[row, j]))
                for j in np.nonzero(opened[row])[0]
            }
            ranked = model.rank(
                held=held, segment=history.segments[row], today=today, allowed=allowed, names={}, limit=K
            )
            baseline = popularity_rank(holders, history.product_ids, held=held, allowed=allowed, limit=K)
            evaluated += 1
            hits_model += target in [s.product_id for s in ranked]
            hits_pop += target in baseline
        model_rate = hits_model / evaluated if evaluated else 0.0
        pop_rate = hits_pop / evaluated if evaluated else 0.0
        print(
            f"customers {len(history.customer_ids):,}; held-out last purchases in the final {HOLDOUT_DAYS} days: {evaluated:,}"
        )
        print(f"held-out products the customer may not buy (skipped): {buyable_misses}")
        print(f"training time {train_seconds:.2f}s")
        print(f"hit rate@{K}  model       {model_rate:.3f}")
        print(f"hit rate@{K}  popularity  {pop_rate:.3f}")
        print(
            f"ratio model / popularity  {model_rate / pop_rate if pop_rate else float('inf'):.2f}x (goal >= 2x)"
        )
        print(f"peak RSS {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
