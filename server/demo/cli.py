from __future__ import annotations

import time

import click
from flask import current_app
from flask.cli import AppGroup

from server import db

demo_cli = AppGroup("demo", help="The demo bank.")


@demo_cli.command("load")
@click.option("--customers", default=5000, show_default=True, help="How many customers to generate.")
@click.option("--seed", default=7, show_default=True, help="Random seed: the same seed gives the same bank.")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database already has users.")
def load(customers: int, seed: int, if_empty: bool) -> None:
    """Load a deterministic demo bank (branches, RMs, customers, products, holdings, history)."""
    from server.demo.generator import DemoBankError, database_is_empty, load_demo_bank

    engine = db.engine_for(current_app)
    if if_empty and not database_is_empty(engine):
        click.echo("Database already holds data; demo bank not loaded.")
        return
    started = time.perf_counter()
    try:
        counts = load_demo_bank(
            engine, customers=customers, seed=seed, data_key=current_app.config["SETTINGS"].DATA_KEY
        )
    except DemoBankError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"Demo bank loaded (seed {seed}) in {time.perf_counter() - started:.1f}s: "
        + ", ".join(f"{k}={v}" for k, v in counts.items())
    )
    # The features' own demo data over the bank, all from one place (server/demo/features.py).
    from server.demo.features import seed_features_over

    for name, added in seed_features_over(engine, seed=seed).items():
        click.echo(f"Demo {name}: {added}")


@demo_cli.command("workbench")
def workbench() -> None:
    """Workbench demo data over a loaded demo bank (idempotent): resources, product profiles, cases."""
    from server.demo.workbench import seed_workbench_demo

    with db.session_scope(db.engine_for(current_app)) as session:
        click.echo(f"Workbench demo data: {seed_workbench_demo(session)}")
