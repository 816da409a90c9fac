"""A small upload must never freeze the web process: an XLSX of 2,000,000 one-cell rows (~100 KB)
is refused at once against the real eventlet server, and /healthz keeps answering within 1 s
meanwhile; a legal file of the full 2,000 rows is read off the event loop."""

from __future__ import annotations

import base64
import threading
import time

import requests

from tests import factories
from tests.conftest import http_login
from tests.xlsx_bombs import one_cell_rows, xlsx


class HealthProbe:
    """Asks /healthz every 100 ms on its own thread and keeps the slowest answer."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.slowest = 0.0
        self.failures = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            started = time.perf_counter()
            try:
                ok = requests.get(self.base_url + "/healthz", timeout=5).status_code == 200
            except requests.RequestException:
                ok = False
            self.slowest = max(self.slowest, time.perf_counter() - started)
            self.failures += 0 if ok else 1
            time.sleep(0.1)

    def __enter__(self) -> HealthProbe:
        self._thread.start()
        time.sleep(0.3)
        return self

    def __exit__(self, *exc) -> None:
        time.sleep(0.3)
        self._stop.set()
        self._thread.join()


def _import(
    http: requests.Session, base: str, filename: str, raw: bytes, *, dry_run: bool = True
) -> tuple[requests.Response, float]:
    started = time.perf_counter()
    response = http.post(
        base + "/api/v1/opportunities/import",
        json={"filename": filename, "content_base64": base64.b64encode(raw).decode(), "dry_run": dry_run},
        timeout=60,
    )
    return response, time.perf_counter() - started


def test_xlsx_bomb_is_refused_fast_and_health_keeps_answering(live_server, db_session):
    user = factories.make_user(db_session)
    http = http_login(live_server.url, user.username)
    bomb = xlsx(one_cell_rows(2_000_000))
    assert len(bomb) < 200_000
    with HealthProbe(live_server.url) as probe:
        response, seconds = _import(http, live_server.url, "bomb.xlsx", bomb)
        undeclared, undeclared_seconds = _import(
            http, live_server.url, "many.xlsx", xlsx(one_cell_rows(300_000))
        )
        declared, declared_seconds = _import(
            http, live_server.url, "dim.xlsx", xlsx(one_cell_rows(5), dimension="A1:A2000000")
        )
    assert response.status_code == 422 and response.json()["code"] == "bad-file", response.text
    assert undeclared.status_code == 422 and "2000" in undeclared.json()["detail"]
    assert declared.status_code == 422 and "2000" in declared.json()["detail"]
    assert max(seconds, undeclared_seconds, declared_seconds) < 2.0, (
        seconds,
        undeclared_seconds,
        declared_seconds,
    )
    assert probe.failures == 0 and probe.slowest < 1.0, f"/healthz took {probe.slowest:.2f} s"


def test_a_full_legal_file_is_read_off_the_event_loop(live_server, db_session):
    user = factories.make_user(db_session)
    http = http_login(live_server.url, user.username)
    rows = b"".join(
        f'<row><c t="inlineStr"><is><t>代发工资{i}</t></is></c><c t="inlineStr"><is><t>潜客{i}</t></is></c>'
        f'<c t="inlineStr"><is><t>310000</t></is></c><c t="inlineStr"><is><t>C36</t></is></c><c><v>{i}</v></c></row>'.encode()
        for i in range(2000)
    )
    header = (
        b'<row><c t="inlineStr"><is><t>title</t></is></c><c t="inlineStr"><is><t>prospect_name</t></is></c>'
        b'<c t="inlineStr"><is><t>region_code</t></is></c><c t="inlineStr"><is><t>industry_code</t></is></c>'
        b'<c t="inlineStr"><is><t>estimated_amount</t></is></c></row>'
    )
    with HealthProbe(live_server.url) as probe:
        response, seconds = _import(http, live_server.url, "full.xlsx", xlsx(header + rows))
        created, created_seconds = _import(
            http, live_server.url, "full.xlsx", xlsx(header + rows), dry_run=False
        )
    assert response.status_code == 200, response.text
    assert response.json()["rows"] == 2000 and response.json()["valid"] == 2000
    assert created.status_code in (201, 202), created.text
    print(
        f"2,000 rows: dry run {seconds:.2f} s, import {created_seconds:.2f} s; "
        f"slowest /healthz meanwhile {probe.slowest:.2f} s"
    )
    assert probe.failures == 0 and probe.slowest < 1.0, f"/healthz took {probe.slowest:.2f} s"
