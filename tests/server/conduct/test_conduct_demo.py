"""The demo bank's veteran (rm_veteran) is flagged with the right reasons; the other demo RMs are not."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, select

from server import create_app, db
from server.conduct import runs
from server.conduct.models import ConductScore
from server.demo.generator import load_demo_bank
from server.org.models import User
from tests.conftest import migrate

TODAY = date(2026, 11, 29)


def test_demo_veteran_is_flagged_and_the_others_are_not(test_config, tmp_path):
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    migrate(url)
    app = create_app({**test_config, "DATABASE_URL": url, "VAR_DIR": tmp_path / "var"})
    engine = db.engine_for(app)
    load_demo_bank(engine, customers=300, seed=11, data_key=app.config["SETTINGS"].DATA_KEY, today=TODAY)
    with app.app_context(), Session(engine, expire_on_commit=False) as session:
        runs.run_daily(session, as_of=TODAY)
        scores = {
            user.username: score
            for score, user in session.exec(
                select(ConductScore, User).join(User, User.id == ConductScore.rm_id)
            ).all()
        }
    veteran = scores["rm_veteran"]
    assert {
        "month_end_spike",
        "quick_reversal",
        "unqualified_sale",
        "reveal_burst",
        "data_hoarding",
        "shared_email",
        "related_transfer",
    } <= set(veteran.fired)
    assert veteran.score >= 60  # above the alert line
    assert veteran.reasons[0]["fired"] and veteran.reasons[0]["explanation"]
    for name in ("rm_newcomer", "rm_general", "rm_excellent", "rm_super"):
        assert scores[name].fired == [], (name, scores[name].fired)
        assert scores[name].score < 20, (name, scores[name].score)
    ranked = sorted(scores.values(), key=lambda s: -s.score)
    assert ranked[0].rm_id == veteran.rm_id
