"""The monthly persona run on a real RQ worker: booked once per month under a deterministic id, and
a run classifies the RMs and pairs newcomers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import col, select

from server.org.models import Persona, RmProfile
from server.personas.models import Mentorship, PersonaClassification
from server.timeutil import utcnow
from tasks.personas import next_run, run_monthly, schedule_monthly
from tasks.queues import LOW, queue
from tests import factories


def test_next_run_is_the_first_of_the_next_month():
    assert next_run(datetime(2026, 12, 5, 8, tzinfo=UTC)) == datetime(2027, 1, 1, 20, tzinfo=UTC)
    assert next_run(datetime(2026, 1, 31, 23, tzinfo=UTC)) == datetime(2026, 2, 1, 20, tzinfo=UTC)


def test_the_monthly_run_is_booked_once_and_classifies(worker, db_session):
    registry = queue(LOW).scheduled_job_registry
    at = datetime(2031, 3, 10, 9, tzinfo=UTC)
    first = schedule_monthly(after=at)
    second = schedule_monthly(after=at + timedelta(days=5))
    assert first == second == datetime(2031, 4, 1, 20, tzinfo=UTC)
    assert registry.get_job_ids().count("personas-monthly-203104") == 1
    registry.remove("personas-monthly-203104", delete_job=True)

    lead = factories.make_user(db_session, role=factories.Role.team_lead, persona=None)
    team = factories.make_team(db_session, lead=lead)
    mentor = factories.make_user(db_session, team=team, persona=Persona.excellent)
    newcomer = factories.make_user(db_session, team=team, persona=Persona.general)
    db_session.get(RmProfile, newcomer.id).hire_date = utcnow().date() - timedelta(days=40)
    db_session.commit()
    job = run_monthly.enqueue(False, job_id=f"test-personas-{utcnow():%H%M%S%f}")
    worker.work(burst=True)
    job.refresh()
    assert job.is_finished, job.exc_info
    db_session.expire_all()
    assert db_session.get(RmProfile, newcomer.id).persona == Persona.newcomer  # from the hire date
    assert db_session.exec(
        select(PersonaClassification).where(PersonaClassification.rm_id == newcomer.id)
    ).one()
    # the would-be mentor was classified from data too: no results on record make a general RM,
    # so there is no excellent or super RM in the team and the newcomer waits for one
    assert db_session.get(RmProfile, mentor.id).persona == Persona.general
    assert not db_session.exec(
        select(Mentorship).where(Mentorship.mentee_id == newcomer.id, col(Mentorship.ended_on).is_(None))
    ).all()


def test_new_thresholds_rerun_the_month_once_per_version(worker, db_session):
    from server.events import DomainEvent
    from tasks.personas import on_event

    version = int(utcnow().timestamp() * 1000)  # unique per run: marks and jobs of earlier runs do not count
    event = DomainEvent("workbench.config_changed", {"name": "personas", "version": version})
    on_event(event)
    on_event(event)  # the same version again adds nothing
    on_event(DomainEvent("workbench.config_changed", {"name": "knowledge", "version": version + 1}))
    ids = queue(LOW).get_job_ids()
    assert ids.count(f"personas-rerun-{version}") == 1
    assert f"personas-rerun-{version + 1}" not in ids
    worker.work(burst=True)
    job = queue(LOW).fetch_job(f"personas-rerun-{version}")
    assert job is not None and job.is_finished, job and job.exc_info
