"""The staff command line, run as `privacy-bot` runs it (bot.cli.main), against a real database file."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.cli import main
from bot.requests.models import RequestStatus as S
from bot.requests.states import ACTIONS, STAFF_ACTIONS, Action, staff_actions, staff_statuses


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
    # A deletion is completed only with what was destroyed, from the configured lists: one line each.
    for extra, expected in (((), "--categories (contacts, account, correspondence, contract, technical)"),
                            (("--categories", "contacts"), "--systems (website, crm, mail"),
                            (("--categories", "contacts,passport", "--systems", "crm"),
                             "неизвестная категория персональных данных «passport»; есть: contacts, account"),
                            (("--categories", "contacts", "--systems", "crm,<b>x</b>"),
                             "неизвестная информационная система «<b>x</b>»"),
                            (("--categories", ",", "--systems", "crm"), "--categories (contacts")):
        code, out, err = cli("requests", "complete", rid, "--by", "boris", *extra)
        assert code == 1 and out == "" and len(err.strip().splitlines()) == 1 and expected in err, (extra, err)
    code, out, _ = cli("requests", "show", rid, "--json")
    shown = json.loads(out)
    assert shown["status"] == "approved" and shown["destruction"] is None  # refusals changed nothing
    assert shown["actions"] == ["complete", "cancel"]
    # HTML in a staff member's name is text in a plain-text act, printed as typed.
    code, _, err = cli("requests", "complete", rid, "--by", "<b>Борис</b> Орлов", "--categories",
                       "account, contacts,contacts", "--systems", "mail,crm")
    assert code == 0, err
    code, out, _ = cli("requests", "act", rid)
    assert code == 0
    assert out.startswith(f"АКТ ОБ УНИЧТОЖЕНИИ ПЕРСОНАЛЬНЫХ ДАННЫХ № {rid}")
    assert "Оператор: Веб-студия JetBit (jetbit.ru)" in out
    assert "Иван Петров" in out and "учётная запись и история заказов" in out
    # in the configured order, each once, with the labels of the configuration
    assert ("Категории уничтоженных персональных данных: контактные данные (фамилия, имя, адрес электронной "
            "почты, номер телефона); данные учётной записи (логин, настройки, история заказов)\n") in out
    assert ("Информационные системы, в которых уничтожены персональные данные: CRM-система (клиенты и заявки); "
            "корпоративная почта\n") in out
    assert "Способ уничтожения: удаление записей из баз данных" in out
    assert "Причина уничтожения: требование субъекта персональных данных" in out
    completed = datetime.fromisoformat(json.loads(cli("requests", "show", rid, "--json")[1])["completed_at"])
    moscow = completed.astimezone(ZoneInfo("Europe/Moscow")).strftime("%d.%m.%Y %H:%M")
    assert f"Дата уничтожения: {moscow} (московское время)" in out
    assert "Решение принял: anna" in out and "Уничтожение выполнил (ответственный): <b>Борис</b> Орлов" in out
    assert "Выгрузка из журнала регистрации событий" in out
    assert ("| status_changed | staff:<b>Борис</b> Орлов | categories=[contacts, account], from=approved, "
            "systems=[crm, mail], to=completed") in out
    code, out, _ = cli("requests", "show", rid)
    assert "Уничтожено (категории; системы): contacts, account; crm, mail" in out and "Действия: нет" in out
    access = _create(cli, "--type", "access", "--email", "ivan@example.ru")["id"]
    assert cli("requests", "act", access)[0] == 1
    cli("requests", "approve", access, "--by", "anna")
    code, _, err = cli("requests", "complete", access, "--by", "anna", "--categories", "contacts", "--systems", "crm")
    assert code == 1 and "не удаление" in err and len(err.strip().splitlines()) == 1


def test_destruction_act_in_english(cli: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRIVACY_BOT__POLICY__DEFAULT_LANGUAGE", "en")
    rid = _create(cli, "--type", "deletion", "--email", "ivan@example.ru")["id"]
    cli("requests", "approve", rid, "--by", "anna")
    code, _, err = cli("requests", "complete", rid, "--by", "anna", "--categories", "technical", "--systems", "nope")
    assert code == 1 and 'unknown information system "nope"; known: website, crm, mail' in err
    assert cli("requests", "complete", rid, "--by", "anna", "--categories", "technical", "--systems", "website")[0] == 0
    code, out, _ = cli("requests", "act", rid)
    assert out.startswith(f"ACT OF DESTRUCTION OF PERSONAL DATA No. {rid}")
    assert "Categories of personal data destroyed: technical data (IP addresses, cookies, web analytics data)\n" in out
    assert "Information systems the personal data were destroyed in: the jetbit.ru website and its database" in out
    assert "Operator: JetBit web studio (jetbit.ru)" in out and "(Moscow time)" in out
    assert "Carried out by (responsible): anna" in out


def test_a_staff_name_is_one_line(cli: Callable[..., Any]) -> None:
    rid = _create(cli, "--type", "deletion", "--email", "x@y.ru")["id"]
    with pytest.raises(SystemExit) as exited:
        cli("requests", "approve", rid, "--by", "anna\nРешение принял: никто")
    assert exited.value.code == 2
    assert json.loads(cli("requests", "show", rid, "--json")[1])["status"] == "pending_review"


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


def test_decisions_follow_the_core_table(cli: Callable[..., Any], monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    """One sub-command per staff action of the table, its help naming the statuses the table allows it in;
    `show` lists what the table allows now; a refusal says it. Changing the table changes all three."""
    with pytest.raises(SystemExit):
        main(["requests", "--help"])
    usage = capsys.readouterr().out
    for action in STAFF_ACTIONS:
        name = action.value.replace("_", "-")
        statuses = ", ".join(s.value for s in staff_statuses(action))
        described = re.search(rf"\n    {name}\s+(.*?)(?=\n    \S|\n\n)", usage, re.DOTALL)
        assert described and f"(when {statuses})" in " ".join(described.group(1).split()), name
    rid = _create(cli, "--type", "access", "--email", "t@example.ru")["id"]
    code, out, _ = cli("requests", "show", rid, "--json")
    assert json.loads(out)["actions"] == [a.value.replace("_", "-") for a in staff_actions(S.PENDING_REVIEW)]
    assert json.loads(out)["actions"] == ["approve", "reject", "need-info", "cancel"]
    assert cli("requests", "need-info", rid, "--by", "anna", "--question", "Which site?")[0] == 0
    code, out, _ = cli("requests", "show", rid)
    assert "Действия: approve, reject, cancel" in out  # asking a question leaves the decision open
    code, _, err = cli("requests", "complete", rid, "--by", "anna")
    assert code == 1 and "сейчас можно: approve, reject, cancel" in err and len(err.strip().splitlines()) == 1

    monkeypatch.setitem(ACTIONS, S.NEEDS_INFO, (Action.REJECT,))
    code, out, _ = cli("requests", "show", rid, "--json")
    assert json.loads(out)["actions"] == ["reject"]
    code, _, err = cli("requests", "approve", rid, "--by", "anna")
    assert code == 1 and "сейчас можно: reject" in err
    with pytest.raises(SystemExit):
        main(["requests", "approve", "--help"])
    assert "approve a request (when pending_review)" in " ".join(capsys.readouterr().out.split())


def test_staff_verify_a_phone_request(cli: Callable[..., Any]) -> None:
    rid = _create(cli, "--type", "correction", "--phone", "+7 900 123-45-67", "--channel", "telegram",
                  "--telegram-id", "5551")["id"]
    # entered by staff: verified already; "verify" is for what the bot received unconfirmed
    code, _, err = cli("requests", "verify", rid, "--by", "anna")
    assert code == 1 and "сейчас можно: approve" in err


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_one_run_speaks_one_language(cli: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, lang: str) -> None:
    """Headers, values, field names and dates of the human views are all in the run's language; the raw
    values (pending_review, manual, deletion) appear only in --json."""
    monkeypatch.setenv("PRIVACY_BOT__POLICY__DEFAULT_LANGUAGE", lang)
    code, created, _ = cli("requests", "create", "--type", "deletion", "--email", "ivan@example.ru",
                           "--telegram-id", "77", "--name", "Иван")
    assert code == 0
    rid = created.split()[1]
    listed = cli("requests", "list")[1]
    shown = cli("requests", "show", rid)[1]
    for raw in ("pending_review", " manual ", "verified_at", "email_code", ": staff\n", "{"):
        assert raw not in created + listed + shown.split("События:")[0].split("Events:")[0], raw
    other = re.compile("[a-z]{5,}" if lang == "ru" else "[а-яё]{3,}")
    human = [line for line in (created + listed + shown).splitlines()
             if not line.startswith(("  ", "Действия", "Actions")) and "Иван" not in line]
    words = {w for line in human for w in other.findall(line.split(": ", 1)[-1] if lang == "ru" else line)}
    assert words <= {"example", "telegram", "ivan"}, words
    assert ("Статус: на рассмотрении" if lang == "ru" else "Status: pending review") in shown
    assert ("Telegram: 77 (Иван), проверено сотрудником" if lang == "ru" else
            "Telegram: 77 (Иван), checked by staff") in shown


@pytest.mark.parametrize(("lang", "said"), [("ru", "нет такого варианта «bogus»"), ("en", 'no such choice "bogus"')])
def test_argument_errors_are_one_line_in_the_runs_language(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                           capsys: pytest.CaptureFixture[str], lang: str,
                                                           said: str) -> None:
    monkeypatch.setenv("PRIVACY_BOT__STORAGE__DATABASE", str(tmp_path / "cli.sqlite3"))
    monkeypatch.setenv("PRIVACY_BOT__POLICY__DEFAULT_LANGUAGE", lang)
    with pytest.raises(SystemExit) as exited:
        main(["requests", "bogus"])
    assert exited.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and said in err[0], err
    with pytest.raises(SystemExit):
        main(["requests", "approve"])
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"privacy-bot requests approve: {'не хватает аргументов' if lang == 'ru' else 'missing arguments'}: "
                   "id, --by"], err
