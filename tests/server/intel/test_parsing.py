"""Fixture feeds: RSS, Atom, JSON, CSV (UTF-8 and GB18030), XLSX, and malformed or hostile bodies that
must come back as ParseError with a code, never an exception of another kind."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from server.intel.parsing import ParseError, parse

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "intel"


def load(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@pytest.mark.parametrize(
    "name, kind, count, first_title",
    [
        ("rss.xml", "feed", 3, "【快讯】上海出台支持汽车零部件企业高质量发展若干措施"),
        ("atom.xml", "feed", 2, "上海市气象台发布暴雨橙色预警"),
        ("tenders.json", "json", 2, "某建设集团中标市政道路工程"),
        ("items.csv", "upload", 2, "苏州工业园区发布集成电路产业扶持政策"),
        ("items_gb18030.csv", "upload", 1, "武汉出台支持光伏企业发展措施"),
        ("items.xlsx", "upload", 2, "成都出台支持医药产业发展若干措施"),
        ("wrong_encoding.xml", "feed", 1, "宁波出台支持纺织企业发展措施"),  # says UTF-8, is GB18030
    ],
)
def test_good_fixtures(name, kind, count, first_title):
    entries = parse(kind, load(name), filename=name)
    assert len(entries) == count
    assert entries[0].title == first_title


def test_rss_fields():
    entry = parse("feed", load("rss.xml"))[0]
    assert entry.summary == "上海市设立专项资金，对汽车零部件企业技术改造给予最高30%的补贴。"  # tags stripped
    assert entry.external_id == "policy-1"
    assert entry.published.isoformat() == "2026-11-28T08:00:00+08:00"


@pytest.mark.parametrize(
    "name, kind, code",
    [
        ("billion_laughs.xml", "feed", "hostile-xml"),
        ("external_entity.xml", "feed", "hostile-xml"),
        ("truncated.xml", "feed", "malformed"),
        ("garbage.bin", "feed", "encoding"),
        ("garbage.bin", "json", "malformed"),
        ("garbage.bin", "upload", "encoding"),
        ("not_a_list.json", "json", "malformed"),
        ("rss.xml", "json", "malformed"),
    ],
)
def test_bad_fixtures_are_parse_errors(name, kind, code):
    started = time.monotonic()
    with pytest.raises(ParseError) as caught:
        parse(kind, load(name), filename=name)
    assert caught.value.code == code
    assert time.monotonic() - started < 5  # a bomb is refused, not expanded


def test_broken_xlsx_and_zip_bomb():
    with pytest.raises(ParseError) as caught:
        parse("upload", b"PK\x03\x04" + b"\x00" * 100, filename="x.xlsx")
    assert caught.value.code == "malformed"
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"0" * (30 * 1024 * 1024))
    with pytest.raises(ParseError) as caught:
        parse("upload", buffer.getvalue(), filename="bomb.xlsx")
    assert caught.value.code == "too-large"


def test_deeply_nested_json_is_an_error_not_a_crash():
    with pytest.raises(ParseError):
        parse("json", b"[" * 100_000 + b"]" * 100_000)
