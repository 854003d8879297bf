"""The staff command line, run as `privacy-bot` runs it (bot.cli.main), against a real database file."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Callable[..., Any]:
    monkeypatch.setenv("PRIVACY_BOT__STORAGE__DATABASE", str(tmp_path / "cli.sqlite3"))
    monkeypatch.delenv("PRIVACY_BOT_CONFIG", raising=False)

    def run(*argv: str) -> tuple[int, str, str]:
        code = main(list(argv))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


def _create(cli: Callable[..., Any], *extra: str) -> dict[str, Any]:
    code, out, err = cli("requests", "create", "--json", *extra)
    assert code == 0, err
    data: dict[str, Any] = json.loads(out)
    return data


def test_create_json(cli: Callable[..., Any]) -> None:
    data = _create(cli, "--type", "access", "--channel", "manual", "--email", "ivan@example.ru",
                   "--name", "Иван", "--details", "what do you hold", "--received", "2025-12-30T12:00:00")
    assert data["id"] == "PR-2025-0001"
    assert (data["type"], data["channel"], data["status"]) == ("access", "manual", "pending_review")
    assert data["received_at"] == "2025-12-30T09:00:00+00:00"  # no zone given: Moscow time
    assert data["due_date"] == "2026-01-23"
    assert data["verification_method"] == "staff"


def test_create_errors_are_one_line(cli: Callable[..., Any]) -> None:
    code, out, err = cli("requests", "create", "--type", "deletion")
    assert code == 1 and out == "" and len(err.strip().splitlines()) == 1 and "--email" in err
    code, _, err = cli("requests", "create", "--type", "deletion", "--phone", "+7 900", "--received", "yesterday")
    assert code == 1 and "yesterday" in err and len(err.strip().splitlines()) == 1


def test_list_show_and_decisions(cli: Callable[..., Any]) -> None:
    deletion = _create(cli, "--type", "deletion", "--phone", "+7 900 111-22-33", "--received", "2026-03-02T10:00")
    access = _create(cli, "--type", "access", "--email", "a@b.ru", "--received", "2026-03-02T10:00")
    correction = _create(cli, "--type", "correction", "--telegram-id", "55", "--received", "2026-03-10T10:00")

    code, out, _ = cli("requests", "list")
    assert code == 0
    lines = out.strip().splitlines()
    assert lines[0].split()[0] == "НОМЕР"
    # by due date: access 17 March, correction 19 March, deletion 1 April
    assert [line.split()[0] for line in lines[1:]] == [access["id"], correction["id"], deletion["id"]]

    assert cli("requests", "approve", access["id"], "--by", "anna")[0] == 0
    assert cli("requests", "need-info", correction["id"], "--by", "anna", "--question", "Which field?")[0] == 0
    code, out, _ = cli("requests", "extend", access["id"], "--by", "anna", "--reason", "archives")
    assert code == 0 and "24.03.2026" in out  # the CLI speaks Russian here: its date format

    code, out, _ = cli("requests", "list", "--status", "needs_info", "--json")
    assert [r["id"] for r in json.loads(out)] == [correction["id"]]
    code, out, _ = cli("requests", "list", "--overdue", "--json")  # all received in March 2026
    assert {r["id"] for r in json.loads(out)} == {access["id"], correction["id"], deletion["id"]}

    code, out, _ = cli("requests", "show", access["id"], "--json")
    shown = json.loads(out)
    assert shown["status"] == "approved" and shown["decided_by"] == "staff:anna"
    assert shown["extended_due_date"] == "2026-03-24"
    assert [e["event"] for e in shown["events"]] == ["created", "verified", "status_changed", "extended"]
    assert [(d["channel"], d["kind"], d["status"]) for d in shown["deliveries"]] == [
        ("email", "request.created", "pending"), ("staff", "staff.request_created", "pending"),
        ("email", "request.approved", "pending"), ("staff", "staff.request_updated", "pending"),
        ("email", "request.extended", "pending"), ("staff", "staff.request_updated", "pending")]
    code, out, _ = cli("requests", "show", access["id"])
    assert code == 0 and "extended" in out and "archives" in out

    assert cli("requests", "complete", access["id"], "--by", "boris")[0] == 0
    assert cli("requests", "cancel", deletion["id"])[0] == 0
    code, out, _ = cli("requests", "list", "--json")
    assert {r["id"]: r["status"] for r in json.loads(out)} == {
        access["id"]: "completed", correction["id"]: "needs_info", deletion["id"]: "cancelled"}


def test_decision_errors(cli: Callable[..., Any]) -> None:
    rid = _create(cli, "--type", "deletion", "--email", "x@y.ru")["id"]
    cases = [
        (("requests", "approve", "PR-2026-9999", "--by", "anna"), "не найден"),
        (("requests", "reject", rid, "--by", "anna"), "--reason"),
        (("requests", "need-info", rid, "--by", "anna"), "--question"),
        (("requests", "complete", rid, "--by", "anna"), "перевести"),
        (("requests", "extend", rid, "--by", "anna", "--reason", "x"), "продлить нельзя"),
    ]
    for argv, expected in cases:
        code, out, err = cli(*argv)
        assert code == 1, argv
        assert len(err.strip().splitlines()) == 1 and expected in err, (argv, err)
    assert cli("requests", "approve", rid, "--by", "anna")[0] == 0
    code, _, err = cli("requests", "reject", rid, "--by", "boris", "--reason", "late")
    assert code == 1 and "staff:anna" in err and "уже принято решение" in err
    code, out, _ = cli("requests", "show", rid, "--json")
    assert json.loads(out)["status"] == "approved"


def test_export_has_the_real_due_dates(cli: Callable[..., Any]) -> None:
    first = _create(cli, "--type", "access", "--email", "a@b.ru", "--received", "2025-12-30T12:00")
    second = _create(cli, "--type", "correction", "--email", "c@d.ru", "--received", "2025-10-31T15:00")
    third = _create(cli, "--type", "deletion", "--email", "e@f.ru", "--received", "2026-02-01T23:59")
    cli("requests", "reject", second["id"], "--by", "anna", "--reason", "not the owner")
    cli("requests", "extend", first["id"], "--by", "anna", "--reason", "archives")

    code, out, _ = cli("requests", "export", "--format", "csv")
    assert code == 0
    rows = {r["id"]: r for r in csv.DictReader(io.StringIO(out))}
    assert list(next(csv.reader(io.StringIO(out)))) == ["id", "type", "channel", "received", "due",
                                                        "extended_due", "status", "decided_by", "decided_at",
                                                        "reason", "completed"]
    assert rows[first["id"]]["due"] == "2026-01-23" and rows[first["id"]]["extended_due"] == "2026-01-30"
    assert rows[second["id"]]["due"] == "2025-11-12"  # the working Saturday counted
    assert rows[second["id"]]["status"] == "rejected" and rows[second["id"]]["reason"] == "not the owner"
    assert rows[second["id"]]["decided_by"] == "staff:anna" and rows[second["id"]]["decided_at"]
    assert rows[third["id"]]["due"] == "2026-03-03"

    code, out, _ = cli("requests", "export", "--format", "json", "--from", "2025-12-01", "--to", "2025-12-31")
    assert [r["id"] for r in json.loads(out)] == [first["id"]]
    code, out, _ = cli("requests", "show", first["id"], "--json")
    assert [e["details"] for e in json.loads(out)["events"] if e["event"] == "exported"] == [
        {"what": "register.csv"}, {"what": "register.json"}]
    code, _, err = cli("requests", "export", "--from", "01.12.2025")
    assert code == 1 and "01.12.2025" in err


def test_destruction_act(cli: Callable[..., Any]) -> None:
    rid = _create(cli, "--type", "deletion", "--email", "ivan@example.ru", "--name", "Иван Петров",
                  "--details", "учётная запись и история заказов")["id"]
    code, _, err = cli("requests", "act", rid)
    assert code == 1 and "акта уничтожения нет" in err
    cli("requests", "approve", rid, "--by", "anna")
    cli("requests", "complete", rid, "--by", "boris")
    code, out, _ = cli("requests", "act", rid)
    assert code == 0
    assert out.startswith(f"АКТ ОБ УНИЧТОЖЕНИИ ПЕРСОНАЛЬНЫХ ДАННЫХ № {rid}")
    assert "Иван Петров" in out and "учётная запись и история заказов" in out
    assert "Решение принял: staff:anna" in out and "Уничтожение выполнил: staff:boris" in out
    assert "Выгрузка из журнала регистрации событий" in out
    assert "| status_changed | staff:boris | from=approved, to=completed" in out
    access = _create(cli, "--type", "access", "--email", "ivan@example.ru")["id"]
    assert cli("requests", "act", access)[0] == 1


def test_retention_run(cli: Callable[..., Any]) -> None:
    _create(cli, "--type", "deletion", "--email", "x@y.ru")
    code, out, _ = cli("retention", "run", "--json")
    assert code == 0 and json.loads(out)["redacted"] == []
    code, out, _ = cli("retention", "run")
    assert code == 0 and out.startswith("Хранение данных")


def test_manual_intake_for_a_telegram_user_answers_in_their_chat(cli: Callable[..., Any]) -> None:
    rid = _create(cli, "--type", "access", "--channel", "telegram", "--telegram-id", "5550", "--lang", "en")["id"]
    code, out, _ = cli("requests", "show", rid, "--json")
    assert code == 0
    deliveries = json.loads(out)["deliveries"]
    assert [(d["channel"], d["recipient"], d["kind"]) for d in deliveries] == [
        ("telegram", "5550", "request.created"), ("staff", "", "staff.request_created")]
