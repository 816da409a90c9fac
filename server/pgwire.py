"""The PostgreSQL connection the engine uses: pg8000 with its messages pipelined.

pg8000 is pure Python, which lets eventlet make its waits cooperative, but it waits for the server
three times per statement with parameters (Parse, then Describe, then Bind + Execute, each followed
by Sync) and once more for every `BEGIN`. Each wait is a trip through the hub and a wake-up of the
database process on the same cores; on the opportunity pool's hot path they were most of the cost
of PostgreSQL over SQLite. This connection sends the same messages in one write and reads the
answers once:

- a statement with parameters: Parse, Describe, Bind, Execute, Sync — one round trip;
- `BEGIN` is held back and sent in front of the transaction's first statement; a transaction that
  ends before any statement (commit or rollback of nothing) sends nothing.

Errors behave as before: after an error the server skips to the Sync and answers ReadyForQuery,
and the error is raised from the statement that caused it. Only the message batching changes; what
the server executes, and in which order, does not. Relies on pg8000's protocol methods (pinned to
1.31 in pyproject.toml), exercised by the whole test suite on PostgreSQL."""

from __future__ import annotations

from contextlib import suppress
from typing import Any

from pg8000.converters import make_params
from pg8000.core import NULL_BYTE, SYNC_MSG, Context, _flush, _write
from pg8000.legacy import Connection

_BEGIN = "begin transaction"  # what pg8000's cursor sends before a transaction's first statement


class PipelinedConnection(Connection):
    _begin_pending = False

    @property
    def _in_transaction(self) -> bool:  # type: ignore[override]
        return self._begin_pending or super()._in_transaction

    def _send_pending_begin(self) -> Context | None:
        if not self._begin_pending:
            return None
        self._begin_pending = False
        self.send_QUERY(_BEGIN)
        return Context(_BEGIN)

    def execute_simple(self, statement: str) -> Context:
        if statement == _BEGIN and not self._in_transaction:
            self._begin_pending = True
            return Context(statement)
        begun = self._send_pending_begin()
        self.send_QUERY(statement)
        _flush(self._sock)
        context = Context(statement)
        self._read_answers(begun, context)
        return context

    def execute_unnamed(self, statement: str, vals: Any = (), oids: Any = (), stream: Any = None) -> Context:
        if self._begin_pending and statement in ("commit", "rollback"):
            self._begin_pending = False  # nothing was done: nothing to end
            return Context(statement)
        if stream is not None:  # COPY: pg8000's own exchange
            begun = self._send_pending_begin()
            if begun is not None:
                _flush(self._sock)
                self.handle_messages(begun)
            return super().execute_unnamed(statement, vals=vals, oids=oids, stream=stream)
        begun = self._send_pending_begin()
        context = Context(statement)
        self.send_PARSE(NULL_BYTE, statement, oids)
        self.send_DESCRIBE_STATEMENT(NULL_BYTE)
        self.send_BIND(NULL_BYTE, make_params(self.py_types, vals))
        self.send_EXECUTE()
        _write(self._sock, SYNC_MSG)
        _flush(self._sock)
        self._read_answers(begun, context)
        return context

    def _read_answers(self, begun: Context | None, context: Context) -> None:
        if begun is not None:
            try:
                self.handle_messages(begun)
            except Exception:
                with suppress(Exception):  # read the statement's answer too: stay in step
                    self.handle_messages(context)
                raise
        self.handle_messages(context)

    def close(self) -> None:
        self._begin_pending = False
        super().close()


def connect(**params: Any) -> PipelinedConnection:
    return PipelinedConnection(**params)
