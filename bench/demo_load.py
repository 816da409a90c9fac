"""Demo-bank load time: N customers (default 1,000,000) into a fresh SQLite file, and with
--postgres also into a fresh PostgreSQL database. A 10,000-customer run in the same process is the
reference, so the ratio shows how throughput holds up as the tables grow.

    .venv/bin/python bench/demo_load.py [--customers N] [--postgres [URL]] [--dir DIR]
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from pathlib import Path

from _common import drop_postgres, fresh_postgres, fresh_sqlite, peak_rss_mb, random_data_key

REFERENCE = 10_000


def cpu_seconds() -> float:
    me, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime


def run(url: str, customers: int, data_key: str, workers: int | None) -> dict:
    from server.db import get_engine
    from server.demo.generator import load_demo_bank

    engine = get_engine(url)
    started, cpu = time.perf_counter(), cpu_seconds()
    counts = load_demo_bank(engine, customers=customers, seed=7, data_key=data_key, workers=workers)
    seconds = time.perf_counter() - started
    engine.dispose()
    rows = sum(counts.values())
    return {
        "seconds": seconds,
        "cpu": cpu_seconds() - cpu,  # this process and its finished generator processes
        "rows": rows,
        "customers_per_s": customers / seconds,
        "rows_per_s": rows / seconds,
    }


def report(label: str, customers: int, got: dict, reference: dict | None) -> None:
    line = (
        f"{label:<10} customers={customers:>9,}  rows={got['rows']:>10,}  total={got['seconds']:8.1f}s  "
        f"rows/s={got['rows_per_s']:>9,.0f}  customers/s={got['customers_per_s']:>8,.0f}  "
        f"cpu={got['cpu']:.0f}s  load avg={os.getloadavg()[0]:.1f}"
    )
    if reference:
        line += (
            f"  throughput vs {REFERENCE:,}-customer run: {got['rows_per_s'] / reference['rows_per_s']:.2f}x"
        )
    print(line, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument(
        "--postgres",
        nargs="?",
        const=os.environ.get("PG_BENCH_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
        help="also load into a fresh database on this PostgreSQL server",
    )
    parser.add_argument(
        "--dir", type=Path, default=None, help="where to put the SQLite file (default: a temp dir)"
    )
    parser.add_argument("--no-reference", action="store_true", help="skip the 10,000-customer reference run")
    parser.add_argument(
        "--workers", type=int, default=None, help="generator processes (default: spare cores)"
    )
    args = parser.parse_args()
    data_key = random_data_key()
    with tempfile.TemporaryDirectory(prefix="zhanye-bench-") as tmp:
        directory = args.dir or Path(tmp)
        directory.mkdir(parents=True, exist_ok=True)
        reference = None
        if not args.no_reference and args.customers > REFERENCE:
            reference = run(fresh_sqlite(directory, "reference.db"), REFERENCE, data_key, args.workers)
            report("sqlite", REFERENCE, reference, None)
        url = fresh_sqlite(directory)
        got = run(url, args.customers, data_key, args.workers)
        report("sqlite", args.customers, got, reference)
        size = sum(p.stat().st_size for p in directory.glob("bench.db*"))
        print(
            f"           sqlite file {size / 2**20:,.0f} MiB; peak RSS so far {peak_rss_mb():,.0f} MiB",
            flush=True,
        )
        if args.postgres:
            pg_reference = None
            if not args.no_reference and args.customers > REFERENCE:
                ref_url, admin = fresh_postgres(args.postgres)
                pg_reference = run(ref_url, REFERENCE, data_key, args.workers)
                drop_postgres(ref_url, admin)
                report("postgres", REFERENCE, pg_reference, None)
            pg_url, admin = fresh_postgres(args.postgres)
            try:
                report(
                    "postgres",
                    args.customers,
                    run(pg_url, args.customers, data_key, args.workers),
                    pg_reference,
                )
            finally:
                drop_postgres(pg_url, admin)
    print(f"peak RSS {peak_rss_mb():,.0f} MiB (this process; each generator process adds its own)")


if __name__ == "__main__":
    main()
