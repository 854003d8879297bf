"""`privacy-bot examples`, run as `privacy-bot` runs it (bot.cli.main), against a real database file."""

from __future__ import annotations

import asyncio
import io
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from bot.config import REPO_ROOT, load_config
from bot.learning import LearningService, PolicySections, stored_examples
from bot.storage.db import Database


@pytest.fixture
def database(tmp_path: Path) -> Path:
    return tmp_path / "cli.sqlite3"


@pytest.fixture
def cli(database: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Callable[..., Any]:
    monkeypatch.setenv("PRIVACY_BOT__STORAGE__DATABASE", str(database))
    monkeypatch.delenv("PRIVACY_BOT_CONFIG", raising=False)

    def run(*argv: str, stdin: str = "") -> tuple[int, str, str]:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        code = main(list(argv))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


def waiting(database: Path, *questions: tuple[str, str]) -> list[int]:
    """Questions the bot could not answer, as the channels leave them (lang, text)."""
    config = load_config(REPO_ROOT / "config.toml", environ={"PRIVACY_BOT__STORAGE__DATABASE": str(database)})

    async def add() -> list[int]:
        db = await Database(database).open()
        try:
            service = LearningService(db, config, learner=PolicySections(config.policy_directory))
            ids = []
            for lang, text in questions:
                question = await service.submit(lang=lang, text=text, channel="telegram", reason="abstained",
                                                offered=["protection", "personal-data"])
                assert question is not None
                ids.append(question.id)
            return ids
        finally:
            await db.close()

    return asyncio.run(add())


def learnt(database: Path) -> list[tuple[str, str, str | None, str | None]]:
    async def read() -> list[tuple[str, str, str | None, str | None]]:
        db = await Database(database).open()
        try:
            return [(q.lang, q.text, q.section_id, q.decided_by) for q in await stored_examples(db)]
        finally:
            await db.close()

    return asyncio.run(read())


def test_review_with_flags_decides_one_question(cli: Callable[..., Any], database: Path) -> None:
    first, second = waiting(database, ("en", "Is my data kept on servers in Russia? Call me on +7 916 000-11-22"),
                            ("ru", "Есть ли у вас ответственный за защиту данных?"))
    code, out, err = cli("examples", "review", "--by", "anna", "--id", str(first), "--section", "protection")
    assert code == 0, err
    assert f"Question {first}" in out or f"Вопрос {first}" in out
    code, out, err = cli("examples", "review", "--by", "anna", "--id", str(second), "--not-in-policy")
    assert code == 0, err
    assert learnt(database) == [("en", "Is my data kept on servers in Russia? Call me on [phone]", "protection",
                                 "staff:anna"),
                                ("ru", "Есть ли у вас ответственный за защиту данных?", None, "staff:anna")]
    # Refusals are one line and exit 1: decided already, no such question, no such section, nothing chosen.
    for argv in (("--id", str(first), "--section", "contact"), ("--id", "999", "--not-in-policy"),
                 ("--id", str(second), "--section", "no-such-section"), ("--id", str(first)),
                 ("--section", "contact")):
        code, out, err = cli("examples", "review", "--by", "boris", *argv)
        assert code == 1 and out == "" and len(err.strip().splitlines()) == 1, (argv, err)
    assert "anna" in cli("examples", "review", "--by", "boris", "--id", str(first), "--section", "contact")[2]
    assert [row[2] for row in learnt(database)] == ["protection", None]


def test_review_asks_one_question_after_another(cli: Callable[..., Any], database: Path) -> None:
    ids = waiting(database, ("en", "Do you fingerprint my browser?"), ("en", "Who is your data protection officer?"),
                  ("ru", "Вы продаёте базы клиентов?"), ("en", "Do you use my data to train AI?"))
    policy = PolicySections(load_config().policy_directory)
    number = {s.id: n for n, s in enumerate(policy.sections("en"), start=1)}
    # A wrong answer is asked again; then a number, "n", "s"; the input ends before the last question.
    answers = f"banana\n99\n{number['non-personal-data']}\nn\ns\n"
    code, out, err = cli("examples", "review", "--by", "anna", stdin=answers)
    assert code == 0, err
    assert out.count("*") >= 2  # the offered sections are marked
    assert "banana" in out and "99" in out  # "not a choice", asked again
    assert learnt(database) == [("en", "Do you fingerprint my browser?", "non-personal-data", "staff:anna"),
                                ("en", "Who is your data protection officer?", None, "staff:anna")]
    code, out, _ = cli("examples", "list", "--json")
    assert [q["id"] for q in json.loads(out)] == ids[2:]  # skipped and unanswered ones still wait
    code, out, _ = cli("examples", "review", "--by", "anna", stdin="q\n")
    assert code == 0 and str(ids[2]) in out and learnt(database)[-1][1] == "Who is your data protection officer?"


def test_export_writes_learnt_examples_into_the_policy_folder(cli: Callable[..., Any], database: Path,
                                                              tmp_path: Path) -> None:
    policy = tmp_path / "policy_text"
    shutil.copytree(load_config().policy_directory, policy)
    code, out, _ = cli("examples", "export", "--dir", str(policy))
    assert code == 0 and ("No learnt examples" in out or "Выученных примеров пока нет" in out)
    first, second, third = waiting(database, ("en", "Do you fingerprint my browser, ivan@example.com?"),
                                   ("ru", "Кто у вас DPO?"), ("en", "Do you sell data to insurers?"))
    for qid, choice in ((first, ("--section", "non-personal-data")), (second, ("--not-in-policy",)),
                        (third, ("--section", "disclosure"))):
        assert cli("examples", "review", "--by", "anna", "--id", str(qid), *choice)[0] == 0
    code, out, err = cli("examples", "export", "--dir", str(policy))
    assert code == 0, err
    english = policy / "examples" / "en" / "learnt.jsonl"
    russian = policy / "examples" / "ru" / "learnt.jsonl"
    assert str(english) in out and str(russian) in out
    assert [json.loads(line) for line in english.read_text(encoding="utf-8").splitlines()] == [
        {"text": "Do you fingerprint my browser, [email]?", "section": "non-personal-data"},
        {"text": "Do you sell data to insurers?", "section": "disclosure"}]
    assert [json.loads(line) for line in russian.read_text(encoding="utf-8").splitlines()] == [
        {"text": "Кто у вас DPO?", "section": None}]
    # Exported again: the same lines, nothing added; the policy still loads with the file beside it.
    code, out, _ = cli("examples", "export", "--dir", str(policy))
    assert code == 0 and len(english.read_text(encoding="utf-8").splitlines()) == 2
    PolicySections(policy)
