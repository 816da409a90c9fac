"""PWA budgets: the JavaScript + CSS that the signed-in home page loads (gzipped; budget 170 KB) and
Lighthouse's mobile scores for that page served by the real Flask server (performance >= 90,
accessibility >= 95, best practices >= 95). It builds nothing: run `make pwa-build` first.

It starts the real web process (eventlet, as in production) on a free port against a fresh SQLite
file, signs in an RM, loads `/` in Debian's Chromium with service workers blocked (so only what the
home page itself asks for is counted), and gzips every script and stylesheet it received (level 9,
as a compressing proxy would). Then it runs `npx lighthouse@12.2.3` (CHROME_PATH=/usr/bin/chromium,
its default mobile emulation and throttling) with the session cookie.

    .venv/bin/python bench/pwa_budget.py [--no-lighthouse] [--runs N] [--roles]

Lighthouse's default 4x CPU slowdown assumes a fast host (benchmarkIndex ~1500); this machine (2 cores,
often shared) measures far lower, which makes 4x stand for a much slower phone. So Lighthouse runs twice:
with its default, and with the slowdown its CPU throttling calculator gives for the measured
benchmarkIndex (docs/throttling.md). Both are printed; the budget is judged on the calibrated one.

Figures are printed; the exit status is 1 when a budget is missed (so `make bench` notices).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import ROOT, migrate, random_data_key

DIST = Path(os.environ.get("PWA_DIST") or ROOT / "pwa" / "dist")
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
LIGHTHOUSE = "lighthouse@12.2.3"
BUDGET_KB = 170
SCORE_BUDGETS = {"performance": 90, "accessibility": 95, "best-practices": 95}
OUT = ROOT / "var" / "bench"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def gz(data: bytes) -> int:
    return len(gzip.compress(data, 9))


def static_graph() -> tuple[int, list[str]]:
    """The entry chunk, its CSS and its static imports (modulepreload) as index.html names them."""
    html = (DIST / "index.html").read_text()
    files = re.findall(r'(?:src|href)="/(assets/[^"]+\.(?:js|css))"', html)
    return sum(gz((DIST / f).read_bytes()) for f in files), files


def start_server(tmp: Path, db_url: str, data_key: str) -> tuple[subprocess.Popen, str, Path]:
    migrate(db_url)
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14"),
        "VAR_DIR": str(tmp / "var"),
        "DATA_KEY": data_key,
        "ASYNC_MODE": "eventlet",
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "PUBLIC_URL": f"http://127.0.0.1:{port}",
        "PWA_DIST": str(DIST),
        "LOGIN_RATE_PER_MINUTE": "1000",
    }
    log = tmp / "server.log"
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "wsgi.py")],
        env=env,
        cwd=ROOT,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    import requests

    deadline = time.time() + 30
    while time.time() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited:\n{log.read_text()[-3000:]}")
        try:
            if requests.get(url + "/healthz", timeout=1).status_code == 200:
                return process, url, log
        except requests.RequestException:
            pass
        time.sleep(0.2)
    process.terminate()
    raise SystemExit("server did not start in 30 s")


def make_users(db_url: str, data_key: str) -> tuple[dict[str, str], str]:
    """An RM with 30 customers in a team, its team lead, a risk officer and an admin: role -> username."""
    from sqlmodel import Session, create_engine

    from server.org.models import Role, User
    from tests import factories

    engine = create_engine(db_url)
    with Session(engine, expire_on_commit=False) as session:
        branch = factories.make_branch(session)
        team = factories.make_team(session, branch=branch)
        user = factories.make_user(session, display_name="张伟", branch=branch, team=team)
        for _ in range(30):
            factories.make_customer(session, owner=user, data_key=data_key)
        lead = session.get(User, team.lead_id)
        others = {
            role.value: factories.make_user(session, role=role, persona=None, branch=branch).username
            for role in (Role.risk_officer, Role.admin)
        }
    engine.dispose()
    return {"rm": user.username, "team_lead": lead.username, **others}, factories.PASSWORD


def sign_in(base: str, username: str, password: str) -> str:
    import requests

    response = requests.post(
        base + "/api/v1/auth/login", json={"username": username, "password": password}, timeout=10
    )
    response.raise_for_status()
    return response.cookies.get("zhanye_session") or next(iter(response.cookies.values()))


def measure_home(base: str, cookie: str) -> dict:
    from playwright.sync_api import sync_playwright

    seen: dict[str, dict] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(
            base_url=base,
            viewport={"width": 375, "height": 812},
            is_mobile=True,
            service_workers="block",
        )
        context.add_cookies([{"name": "zhanye_session", "value": cookie, "url": base}])
        page = context.new_page()

        def on_response(response):
            kind = response.request.resource_type
            if kind in ("script", "stylesheet"):
                try:
                    body = response.body()
                except Exception:
                    return
                seen[response.url] = {"kind": kind, "raw": len(body), "gzip": gz(body)}

        page.on("response", on_response)
        page.goto("/", wait_until="networkidle")
        page.get_by_test_id("home-greeting").wait_for(timeout=15_000)
        page.wait_for_load_state("networkidle")
        browser.close()
    return seen


def cpu_slowdown_for(benchmark_index: float) -> float:
    """Lighthouse's CPU throttling calculator (docs/throttling.md, "calibrating the CPU slowdown"):
    150 is 1x, 800 is 2x, 1300 is 3x, 1533 is the default 4x, and each 233 above 1300 adds one more."""
    if benchmark_index >= 1300:
        return min(10.0, 3 + (benchmark_index - 1300) / 233)
    if benchmark_index >= 800:
        return 2 + (benchmark_index - 800) / 500
    return max(1.0, 1 + (benchmark_index - 150) / 650)


def run_lighthouse(
    base: str, cookie: str, runs: int, label: str, extra: list[str]
) -> dict[str, float] | None:
    npx = shutil.which("npx")
    if not npx or not Path(CHROMIUM).exists():
        print("lighthouse: skipped (needs npx and Chromium)")
        return None
    OUT.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "CHROME_PATH": CHROMIUM}
    results: list[dict[str, float]] = []
    for run in range(runs):
        report = OUT / f"lighthouse-home-{label}-{run + 1}.json"
        cmd = [
            npx,
            "--yes",
            LIGHTHOUSE,
            base + "/",
            "--quiet",
            "--output=json",
            f"--output-path={report}",
            "--only-categories=performance,accessibility,best-practices",
            "--chrome-flags=--headless=new " + " ".join(CHROMIUM_ARGS),
            "--extra-headers=" + json.dumps({"Cookie": f"zhanye_session={cookie}"}),
            *extra,
        ]
        for attempt in range(3):
            done = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=600)
            # Lighthouse's own advice for a trace that lost its navigation start is to run again
            if done.returncode == 0 or "NO_NAVSTART" not in done.stderr or attempt == 2:
                break
            print(f"lighthouse: no navigation start in the trace ({label}, run {run + 1}); running it again")
        if done.returncode != 0 or not report.exists():
            print(f"lighthouse failed ({done.returncode}):\n{done.stderr[-2000:]}")
            return None
        data = json.loads(report.read_text())
        scores = {k: round(v["score"] * 100) for k, v in data["categories"].items() if v["score"] is not None}
        audits = data["audits"]
        scores["_fcp_ms"] = audits["first-contentful-paint"]["numericValue"]
        scores["_lcp_ms"] = audits["largest-contentful-paint"]["numericValue"]
        scores["_tbt_ms"] = audits["total-blocking-time"]["numericValue"]
        scores["_cls"] = audits["cumulative-layout-shift"]["numericValue"]
        scores["_benchmark_index"] = data["environment"]["benchmarkIndex"]
        failing = [
            a["id"]
            for a in audits.values()
            if a.get("score") is not None
            and a["score"] < 0.9
            and a.get("scoreDisplayMode") in ("binary", "metricSavings")
        ]
        scores["_failing"] = failing  # type: ignore[assignment]
        results.append(scores)
    # the median run per category, as Lighthouse's own guidance suggests for noisy figures
    merged: dict[str, float] = {}
    for key in SCORE_BUDGETS:
        values = sorted(r.get(key, 0) for r in results)
        merged[key] = values[len(values) // 2]
    for key in ("_fcp_ms", "_lcp_ms", "_tbt_ms", "_cls", "_benchmark_index"):
        values = sorted(r[key] for r in results)
        merged[key] = values[len(values) // 2]
    merged["_failing"] = sorted({a for r in results for a in r["_failing"]})  # type: ignore[assignment]
    return merged


def report_scores(label: str, scores: dict) -> None:
    print(f"lighthouse, {label}, median of runs:")
    print(
        "  "
        + ", ".join(f"{key} {scores.get(key, 0):.0f}" for key in SCORE_BUDGETS)
        + f"; FCP {scores['_fcp_ms']:.0f} ms, LCP {scores['_lcp_ms']:.0f} ms, TBT {scores['_tbt_ms']:.0f} ms, "
        f"CLS {scores['_cls']:.3f}"
    )
    if scores["_failing"]:
        print(f"  audits below 0.9: {', '.join(scores['_failing'])}")


def judge(role: str, scores: dict) -> bool:
    ok = True
    for key, budget in SCORE_BUDGETS.items():
        score = scores.get(key, 0)
        mark = "ok" if score >= budget else "BELOW BUDGET"
        print(f"lighthouse {key} ({role} home): {score:.0f} (budget >= {budget}): {mark}")
        ok &= score >= budget
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-lighthouse", action="store_true")
    parser.add_argument("--runs", type=int, default=3, help="Lighthouse runs (median is reported)")
    parser.add_argument(
        "--roles",
        action="store_true",
        help="also judge the team lead's, risk officer's and admin's homes (calibrated run only)",
    )
    args = parser.parse_args()
    if not (DIST / "index.html").exists():
        print(f"pwa_budget: {DIST} has no build; run `make pwa-build` first")
        return 1

    ok = True
    static_bytes, static_files = static_graph()
    print(f"index.html names {len(static_files)} JS/CSS files: {static_bytes / 1024:.1f} KB gzipped")

    with tempfile.TemporaryDirectory(prefix="zhanye-budget-") as tmpdir:
        tmp = Path(tmpdir)
        db_url = f"sqlite:///{tmp / 'budget.db'}"
        data_key = random_data_key()
        process, base, _log = start_server(tmp, db_url, data_key)
        try:
            usernames, password = make_users(db_url, data_key)
            cookie = sign_in(base, usernames["rm"], password)

            seen = measure_home(base, cookie)
            js = sum(v["gzip"] for v in seen.values() if v["kind"] == "script")
            css = sum(v["gzip"] for v in seen.values() if v["kind"] == "stylesheet")
            raw = sum(v["raw"] for v in seen.values())
            total_kb = (js + css) / 1024
            print(f"signed-in home loads {len(seen)} JS/CSS files: {raw / 1024:.1f} KB raw")
            for url, v in sorted(seen.items(), key=lambda kv: -kv[1]["gzip"]):
                print(f"  {v['gzip'] / 1024:7.1f} KB gz  {url.removeprefix(base)}")
            verdict = "ok" if total_kb <= BUDGET_KB else "OVER BUDGET"
            print(
                f"JS {js / 1024:.1f} KB + CSS {css / 1024:.1f} KB = {total_kb:.1f} KB gzipped "
                f"(budget {BUDGET_KB} KB): {verdict}"
            )
            ok &= total_kb <= BUDGET_KB

            if not args.no_lighthouse:
                # Lighthouse's default mobile CPU slowdown (4x) assumes a host with benchmarkIndex ~1500;
                # on a slower or busy host it stands for a much slower phone than intended. Both figures
                # are printed; the budget is judged on the run calibrated as docs/throttling.md says.
                default = run_lighthouse(base, cookie, max(1, args.runs), "default", [])
                if default is None:
                    ok = False
                else:
                    report_scores("default 4x CPU slowdown", default)
                    slowdown = round(cpu_slowdown_for(default["_benchmark_index"]), 1)
                    calibrated = run_lighthouse(
                        base,
                        cookie,
                        max(1, args.runs),
                        "calibrated",
                        [f"--throttling.cpuSlowdownMultiplier={slowdown}"],
                    )
                    if calibrated is None:
                        ok = False
                    else:
                        report_scores(
                            f"calibrated {slowdown}x CPU slowdown (benchmarkIndex "
                            f"{default['_benchmark_index']:.0f})",
                            calibrated,
                        )
                        ok &= judge("rm", calibrated)
                        for role in ("team_lead", "risk_officer", "admin") if args.roles else ():
                            scores = run_lighthouse(
                                base,
                                sign_in(base, usernames[role], password),
                                max(1, args.runs),
                                f"calibrated-{role}",
                                [f"--throttling.cpuSlowdownMultiplier={slowdown}"],
                            )
                            if scores is None:
                                ok = False
                                continue
                            report_scores(f"{role} home, calibrated {slowdown}x", scores)
                            ok &= judge(role, scores)
                    print(f"reports: {OUT}/lighthouse-home-*.json")
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
