"""Input checked once at the edge, so every endpoint gets it: ids in paths, queries and bodies fit
the database's integer columns, text holds no NUL byte and no lone surrogate, JSON nests at most
MAX_JSON_DEPTH deep, and a value the database still refuses as out of range answers 422, not 500.

Ids are 32-bit on PostgreSQL (`integer`), so an id past 2**31 - 1 names nothing: a path answers
404, a query or body 422. Other integers (amounts in cents are `bigint`) must fit 2**53 - 1, the
largest a JSON client can hold exactly."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask, request
from sqlalchemy.exc import DataError
from werkzeug.routing import IntegerConverter

from server.errors import Problem, problem_response, unprocessable

MAX_ID = 2**31 - 1
MAX_INT = 2**53 - 1
MAX_JSON_DEPTH = 32
_BAD_TEXT = re.compile("[\x00\ud800-\udfff]")


def _is_id_name(name: str) -> bool:
    return name == "id" or name.endswith(("_id", "_ids")) or name == "ids"


class BoundedIntConverter(IntegerConverter):
    """`<int:...>` in every route: at most MAX_ID, so an id the database cannot hold is a 404."""

    def __init__(self, map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def bad_text(value: str) -> bool:
    return bool(_BAD_TEXT.search(value))


def _invalid(field: str | None, message: str, code: str = "validation") -> Problem:
    return unprocessable(
        "Some fields are invalid.", code=code, errors=[{"field": field, "message": message, "type": code}]
    )


def check_json(value: Any) -> None:
    """Walks a parsed JSON body without recursion: depth, text and integer bounds."""
    stack: list[tuple[Any, int, str, bool]] = [(value, 1, "", False)]
    while stack:
        item, depth, path, is_id = stack.pop()
        if isinstance(item, (dict, list)):
            if depth > MAX_JSON_DEPTH:
                raise Problem(
                    400, "Bad Request", f"JSON nests deeper than {MAX_JSON_DEPTH}.", code="json-too-deep"
                )
            if isinstance(item, dict):
                for key, child in item.items():
                    if bad_text(key):
                        raise _invalid(
                            path or None, "A key holds a NUL byte or a lone surrogate.", "bad-text"
                        )
                    stack.append((child, depth + 1, f"{path}.{key}" if path else key, _is_id_name(key)))
            else:
                for index, child in enumerate(item):
                    stack.append((child, depth + 1, f"{path}.{index}", is_id))
        elif isinstance(item, str):
            if bad_text(item):
                raise _invalid(path or None, "Text may not hold a NUL byte or a lone surrogate.", "bad-text")
        elif isinstance(item, int) and not isinstance(item, bool):
            limit = MAX_ID if is_id else MAX_INT
            if abs(item) > limit:
                raise _invalid(path or None, f"Out of range (at most {limit}).", "out-of-range")


def check_query_and_path() -> None:
    for key, value in request.args.items(multi=True):
        if bad_text(key) or bad_text(value):
            raise _invalid(key, "Text may not hold a NUL byte or a lone surrogate.", "bad-text")
        if _is_id_name(key):
            for part in value.split(","):
                digits = part.strip().lstrip("+-")
                if digits.isdigit() and int(digits) > MAX_ID:
                    raise _invalid(key, f"Out of range (at most {MAX_ID}).", "out-of-range")
    if bad_text(request.path):
        raise Problem(404, "Not Found", "No such resource.", code="not-found")


def parse_version(header: str) -> int:
    """The number in `If-Match: "<n>"` (or W/"<n>"); ValueError when it is none or out of range."""
    value = int(header.strip().removeprefix("W/").strip('"'))
    if not 0 <= value <= MAX_ID:
        raise ValueError("out of range")
    return value


def init_app(app: Flask) -> None:
    app.url_map.converters["int"] = BoundedIntConverter

    @app.before_request
    def _check_query_and_path():
        check_query_and_path()

    def _out_of_range(_exc: Exception):
        # The last line of defence: a value the database refuses as out of range (an integer past
        # a column's size, a number SQLite cannot bind) is the client's error. Nothing was stored:
        # the request's session rolls back at teardown.
        return problem_response(unprocessable("A value is out of range.", code="out-of-range"))

    app.register_error_handler(DataError, _out_of_range)
    app.register_error_handler(OverflowError, _out_of_range)
