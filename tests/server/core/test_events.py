"""Domain events reach sinks only after the transaction commits, never after a rollback."""

from server import events
from server.audit import service as audit


def test_events_dispatch_after_commit_only(db_session):
    seen = []
    events.add_sink(seen.append)
    try:
        events.publish(db_session, "test.happened", {"n": 1})
        audit.record(db_session, actor_id=None, action="test.event")
        assert seen == []  # not yet committed
        db_session.commit()
        assert [(e.kind, e.payload) for e in seen] == [("test.happened", {"n": 1})]

        events.publish(db_session, "test.rolled_back", {"n": 2})
        db_session.rollback()
        db_session.commit()
        assert [e.kind for e in seen] == ["test.happened"]
    finally:
        events.remove_sink(seen.append)


def test_failing_sink_does_not_undo_the_commit(db_session):
    def broken(_event):
        raise RuntimeError("sink down")

    seen = []
    events.add_sink(broken)
    events.add_sink(seen.append)
    try:
        events.publish(db_session, "test.robust", {})
        db_session.commit()
        assert [e.kind for e in seen] == ["test.robust"]
    finally:
        events.remove_sink(broken)
        events.remove_sink(seen.append)
