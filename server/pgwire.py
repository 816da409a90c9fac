"""The PostgreSQL connection the engine uses: pg8000 with its messages pipelined.

pg8000 is pure Python, which lets eventlet make its waits cooperative, but it waits for the server
three times per statement with parameters (Parse, then Describe, then Bind + Execute, each followed
by Sync) and once more for every `BEGIN`. Each wait is a trip through the hub and a wake-up of the
database process on the same cores; on the opportunity pool's hot path they were most of the cost
of PostgreSQL over SQLite. This connection sends the same messages in one write and reads the
answers once:

- a statement with parameters: Parse, Describe, Bind, Execute, Sync — one round trip;
- `BEGIN` is held back and sent in front of the transaction's first statement; a transaction that
  ends before any statement (commit or rollback of nothing) sends nothing;
- the rewrite of a statement's `%s` placeholders into `$1, $2 ...`, which pg8000 does character by
  character in Python on every execution (a third of a millisecond for an ORM SELECT), is done once
  per statement text.

Errors behave as before: after an error the server skips to the Sync and answers ReadyForQuery,
and the error is raised from the statement that caused it. Only the message batching changes; what
the server executes, and in which order, does not. Relies on the protocol methods of pg8000 1.31
(pyproject.toml allows <2: check this class when upgrading), exercised by the whole test suite on
PostgreSQL."""

from __future__ import annotations

from contextlib import suppress
from functools import lru_cache
from typing import Any

from pg8000.converters import make_params
from pg8000.core import NULL_BYTE, SYNC_MSG, Context, _flush, _write
from pg8000.dbapi import IntegrityError, ProgrammingError, convert_paramstyle
from pg8000.exceptions import DatabaseError, InterfaceError
from pg8000.legacy import Connection, Cursor

_BEGIN = "begin transaction"  # what pg8000's cursor sends before a transaction's first statement


@lru_cache(maxsize=4096)
def _numbered(statement: str) -> str:
    """`%s` placeholders → `$n` (the "format" paramstyle SQLAlchemy uses with pg8000)."""
    return convert_paramstyle("format", statement, ())[0]


class PipelinedCursor(Cursor):
    def execute(self, operation: str, args: Any = (), stream: Any = None) -> PipelinedCursor:
        if len(args) == 0 or stream is not None or self.paramstyle != "format":
            return super().execute(operation, args, stream)
        # pg8000's Cursor.execute for this case, with the placeholder rewrite remembered
        connection = self._c
        if connection is None:
            raise InterfaceError("Cursor closed")
        try:
            if not connection._in_transaction and not connection.autocommit:
                connection.execute_simple(_BEGIN)
            oids: Any = getattr(self, "_input_oids", ())  # set by setinputsizes (pg8000 untyped)
            self._context = connection.execute_unnamed(_numbered(operation), vals=args, oids=oids)
        except AttributeError as e:
            if connection._sock is None:
                raise InterfaceError("connection is closed") from e
            raise
        except DatabaseError as e:
            message = e.args[0]
            if isinstance(message, dict):
                code = message["C"]
                cls = (
                    InterfaceError
                    if code == "28000"
                    else IntegrityError
                    if code == "23505"
                    else ProgrammingError
                )
                raise cls(message) from e
            raise ProgrammingError(message) from e
        self._row_iter = iter([] if self._context.rows is None else self._context.rows)
        self._input_oids = ()
        self.input_types: list[Any] = []
        return self


class PipelinedConnection(Connection):
    _begin_pending = False

    def cursor(self) -> PipelinedCursor:
        return PipelinedCursor(self)

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
