"""kill -9 of a real `rq worker` in the middle of a registry import loses and duplicates nothing:
rows land in whole batches with their progress, and the retried job resumes after the last batch."""

from __future__ import annotations

import base64
import time
import uuid

import pytest
from sqlmodel import func, select

import tasks.prospects as prospect_jobs
from server.intel.models import IntelSource
from server.org.models import Role
from server.prospects import imports, loading
from server.prospects.models import Prospect, ProspectImport
from tests import factories
from tests.live.workers import kill_hard, start_burst_worker
from tests.server.prospects.conftest import credit_code

pytestmark = pytest.mark.live

ROWS = 6000


def test_kill_9_mid_import_then_retry_loads_every_row_once(app, test_config, db_session, tmp_path, worker):
    tag = uuid.uuid4().hex[:6]
    admin = factories.make_user(db_session, role=Role.admin, persona=None)
    source = IntelSource(name=f"园区名录{tag}", kind="upload", category="corporate_event")
    db_session.add(source)
    db_session.commit()
    codes = [credit_code() for _ in range(ROWS)]
    body = "企业名称,统一社会信用代码,行业代码,规模,地区代码\n" + "".join(
        f"上海{tag}第{k}科技有限公司,{code},I65,小型,310000\n" for k, code in enumerate(codes)
    )
    content = body.encode()
    assert len(content) < app.config["SETTINGS"].PROSPECT_UPLOAD_MAX_BYTES
    with app.app_context():
        batch, created = imports.start_import(
            db_session, actor=admin, source_id=source.id, filename="members.csv", content=content, ip=None
        )
    assert created and base64.b64encode(content)

    def progress() -> tuple[int, int, int]:
        db_session.expire_all()
        row = db_session.get(ProspectImport, batch.id)
        stored = db_session.exec(select(func.count()).where(Prospect.name.startswith(f"上海{tag}"))).one()
        return row.processed, row.created, stored

    prospect_jobs.load_import.enqueue(batch.id, job_id=f"prospects-import-{batch.id}")
    process = start_burst_worker(test_config, tmp_path / "worker1.log")
    deadline = time.time() + 120
    while time.time() < deadline:
        processed, _created, _stored = progress()
        if processed >= loading.BATCH:
            break
        time.sleep(0.02)
    kill_hard(process)
    processed, created_before, stored = progress()
    print(f"\nkilled after {processed} of {ROWS} rows ({stored} stored)")
    assert 0 < processed < ROWS, "the kill must land mid-job"
    assert stored == created_before == processed  # whole batches only, each with its progress
    # The retry (as RQ or an admin would run it) resumes after the last committed batch.
    prospect_jobs.load_import.enqueue(batch.id, job_id=f"prospects-import-{batch.id}-retry")
    process = start_burst_worker(test_config, tmp_path / "worker2.log")
    process.wait(180)
    assert process.returncode == 0, (tmp_path / "worker2.log").read_text()[-3000:]
    processed, created_total, stored = progress()
    assert (processed, created_total, stored) == (ROWS, ROWS, ROWS)
    names = db_session.exec(select(Prospect.credit_code).where(Prospect.name.startswith(f"上海{tag}"))).all()
    assert sorted(names) == sorted(codes)
    assert db_session.get(ProspectImport, batch.id).status == "done"
