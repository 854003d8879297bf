"""``privacy-bot policy check``: every problem of an edited policy folder on its own line, and what changed
since the policy the bot last ran with (read from the bot's real SQLite database)."""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import replace
from pathlib import Path

import pytest

from bot.cli import main
from bot.i18n import get_translator
from bot.policy import PolicyLoadError
from bot.policy.check import MIN_EXAMPLES, check_policy
from bot.policy.loader import load_policy
from bot.policy.snapshot import PolicySnapshot, SectionState, describe, diff, snapshot_of
from bot.storage import policy_repo
from bot.storage.db import Database

from .conftest import POLICY_DIR


def _lines(folder: Path) -> list[str]:
    t = get_translator()
    return [problem.render(t, "en") for problem in check_policy(folder).problems]


def _append(path: Path, text: str) -> None:
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")


def _section(section_id: str, title: str, order: int, text: str, parent: str = "") -> str:
    return (f"---\nid: {section_id}\ntitle: {title}\norder: {order}\n" + (f"parent: {parent}\n" if parent else "")
            + f"---\n{text}\n")


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_the_shipped_policy_has_no_problems() -> None:
    result = check_policy(POLICY_DIR)
    assert result.problems == []
    policy = load_policy(POLICY_DIR)
    assert result.version == policy.version
    assert result.effective_date == policy.effective_date.isoformat()
    assert result.snapshot() == snapshot_of(policy)


def test_every_kind_of_problem_is_reported_each_on_its_own_line(policy_copy: Path) -> None:
    en, ru, examples = policy_copy / "en", policy_copy / "ru", policy_copy / "examples"
    # A section only in English, with too few examples (3 curated + 1 asked < 5).
    (en / "14-cookies.txt").write_text(_section("cookies", "Cookies", 14, "We use cookies."), encoding="utf-8")
    _append(examples / "en" / "sections.toml", '\n[cookies]\nexamples = ["cookies?", "do you track me", "tracking"]\n')
    _append(examples / "en" / "asked.jsonl", json.dumps({"text": "what cookies", "section": "cookies"}) + "\n")
    # Two malformed files, one per language: both reported (the loader stops at the first).
    (en / "11-disclaimer.txt").write_text("---\nid: disclaimer\norder: 11\n---\nNo title.\n", encoding="utf-8")
    (ru / "09-protection.txt").write_text("id: protection\n", encoding="utf-8")
    # Russian order and parent differ from English.
    path = ru / "12-changes.txt"
    path.write_text(path.read_text(encoding="utf-8").replace("order: 12", "order: 99"), encoding="utf-8")
    path = ru / "05-public-access.txt"
    path.write_text(path.read_text(encoding="utf-8").replace("parent: disclosure", "parent: scope"), encoding="utf-8")
    # Examples naming ids that do not exist: a table, and asked lines (grouped, with their numbers).
    _append(examples / "ru" / "sections.toml", '\n[cookie-policy]\nexamples = ["куки"]\n')
    asked = examples / "ru" / "asked.jsonl"
    before = len(asked.read_text(encoding="utf-8").splitlines())
    _append(asked, "".join(json.dumps({"text": f"вопрос {n}", "section": "gone"}) + "\n" for n in range(12)))

    lines = _lines(policy_copy)
    expected = [
        rf"^{en}/11-disclaimer\.txt: missing header key 'title'$",
        rf"^{ru}/09-protection\.txt: must start with a '---' header line$",
        rf'^{ru}: no file for section "cookies" \(it is in {en}/14-cookies\.txt\)$',
        rf'^{en}/12-changes\.txt: section "changes" comes after "consent" here, but after "contact" in Russian',
        rf'^{en}/13-contact\.txt: section "contact" comes after "changes" here, but after "consent" in Russian',
        rf'^{en}/05-public-access\.txt: section "public-access" has parent "disclosure" here and "scope" in Russian$',
        rf'^{examples}/en/sections\.toml: section "cookies" has 4 example questions in English, at least 5',
        rf"^{examples}/ru/sections\.toml: \[cookie-policy\] is not a section id$",
        rf'^{examples}/ru/asked\.jsonl: lines {before + 1}, {before + 2}, .*, {before + 10} and 2 more name "gone", '
        "which is not a section id$",
    ]
    for pattern in expected:
        assert any(re.search(pattern, line) for line in lines), (pattern, lines)
    assert len(lines) == len(expected), lines
    # The broken files' sections are not reported again as missing in the other language.
    assert not any('"disclaimer"' in line or '"protection"' in line for line in lines)


def test_whatever_the_loader_refuses_the_check_reports(policy_copy: Path) -> None:
    cases = {
        "en/13-contact.txt": "---\nid: contact\ntitle: X\norder: thirteen\n---\ntext\n",
        "ru/13-contact.txt": "---\nid: contact\ntitle: X\norder: 13\nparent: nowhere\n---\ntext\n",
        "en/10-consent.txt": "---\nid: changes\ntitle: X\norder: 10\n---\ntext\n",
    }
    for name, content in cases.items():
        (policy_copy / name).write_text(content, encoding="utf-8")
        with pytest.raises(PolicyLoadError):
            load_policy(policy_copy)
    lines = _lines(policy_copy)
    assert any("en/13-contact.txt: order must be a whole number" in line for line in lines), lines
    assert any("ru/13-contact.txt: parent \"nowhere\" is not a section id" in line for line in lines), lines
    assert any("en/12-changes.txt: duplicate id \"changes\" (also in 10-consent.txt)" in line for line in lines), lines
    (policy_copy / "policy.toml").write_text('effective_date = "soon"\n', encoding="utf-8")
    (policy_copy / "examples" / "ru" / "intents.toml").write_text("[deletion\n", encoding="utf-8")
    lines = _lines(policy_copy)
    assert any("policy.toml: effective_date must be a date" in line for line in lines), lines
    assert any("intents.toml: not valid TOML" in line for line in lines), lines


def test_examples_count_the_curated_list_and_the_asked_lines(policy_copy: Path) -> None:
    for lang, title in (("en", "Cookies"), ("ru", "Куки")):
        (policy_copy / lang / "14-cookies.txt").write_text(_section("cookies", title, 14, "Cookies: yes."),
                                                           encoding="utf-8")
    _append(policy_copy / "examples" / "en" / "sections.toml", '\n[cookies]\nexamples = ["a", "b", "c"]\n')
    _append(policy_copy / "examples" / "en" / "asked.jsonl",
            "".join(json.dumps({"text": f"q{n}", "section": "cookies"}) + "\n" for n in range(2)))
    _append(policy_copy / "examples" / "ru" / "asked.jsonl",
            "".join(json.dumps({"text": f"в{n}", "section": "cookies"}) + "\n" for n in range(MIN_EXAMPLES - 1)))
    lines = _lines(policy_copy)
    assert len(lines) == 1 and '"cookies" has 4 example questions in Russian' in lines[0], lines
    _append(policy_copy / "examples" / "ru" / "asked.jsonl", json.dumps({"text": "ещё", "section": "cookies"}) + "\n")
    assert _lines(policy_copy) == []


def test_labels_older_than_a_section_are_noted_not_failed(policy_copy: Path) -> None:
    for lang, title in (("en", "Cookies"), ("ru", "Куки")):
        (policy_copy / lang / "14-cookies.txt").write_text(_section("cookies", title, 14, "Cookies: yes."),
                                                           encoding="utf-8")
        _append(policy_copy / "examples" / lang / "sections.toml",
                '\n[cookies]\nexamples = ["a", "b", "c", "d", "e"]\n')
    result = check_policy(policy_copy)
    assert result.ok
    notes = [note.render(get_translator(), "en") for note in result.notes]
    assert len(notes) == 2 and all("before section(s) cookies existed" in note for note in notes), notes


def test_a_folder_that_is_not_there_or_has_no_language(tmp_path: Path, policy_copy: Path) -> None:
    assert _lines(tmp_path / "nowhere") == [f"{tmp_path / 'nowhere'}: policy folder not found"]
    for path in (policy_copy / "ru").iterdir():
        path.unlink()
    lines = _lines(policy_copy)
    assert lines[0] == f"{policy_copy / 'ru'}: no section files (*.txt)"
    # Every English section is then missing in Russian, one line each.
    assert len([line for line in lines if "no file for section" in line]) == 13


def _record(database: Path, folder: Path) -> None:
    """What the running bot does at start: the policy it runs with, in its database."""
    async def write() -> None:
        async with await Database(database).open() as db, db.transaction() as conn:
            await policy_repo.save_snapshot(conn, snapshot_of(load_policy(folder)))
    asyncio.run(write())


def test_changes_since_the_version_the_bot_last_ran(policy_copy: Path, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    database = tmp_path / "data" / "bot.sqlite3"
    database.parent.mkdir()
    monkeypatch.setenv("PRIVACY_BOT__STORAGE__DATABASE", str(database))
    monkeypatch.setenv("PRIVACY_BOT__POLICY__DEFAULT_LANGUAGE", "en")
    monkeypatch.delenv("PRIVACY_BOT_TELEGRAM_TOKEN", raising=False)

    code, out, _ = _run(["policy", "check", str(policy_copy)], capsys)
    assert code == 0 and "No problems found." in out
    assert "The bot has not recorded a policy" in out
    old = load_policy(policy_copy)
    _record(database, policy_copy)
    code, out, _ = _run(["policy", "check", str(policy_copy)], capsys)
    assert code == 0 and f"No section changed since the version the bot last ran ({old.version}" in out

    en, ru = policy_copy / "en", policy_copy / "ru"
    # changed (English only), added (both), removed (both), renamed with a small edit (both).
    path = en / "13-contact.txt"
    path.write_text(path.read_text(encoding="utf-8").replace("+7 981 989-53-11", "+7 900 000-00-00"),
                    encoding="utf-8")
    for lang, title in (("en", "Cookies"), ("ru", "Куки")):
        (policy_copy / lang / "14-cookies.txt").write_text(_section("cookies", title, 14, "Cookies: yes."),
                                                           encoding="utf-8")
    for folder in (en, ru):
        (folder / "12-changes.txt").unlink()
        old_file = folder / "11-disclaimer.txt"
        text = old_file.read_text(encoding="utf-8").replace("id: disclaimer", "id: no-warranty")
        (folder / "11-no-warranty.txt").write_text(text.rstrip("\n") + " (updated)\n", encoding="utf-8")
        old_file.unlink()
    code, out, _ = _run(["policy", "check", str(policy_copy)], capsys)
    new = load_policy(policy_copy)
    assert code == 1  # the examples still name the old ids, and the new section has none
    assert re.search(r'examples/en/sections\.toml: \[disclaimer\] is not a section id', out), out
    assert re.search(r'examples/ru/asked\.jsonl: lines .* name "changes", which is not a section id', out), out
    assert f"Policy folder {policy_copy}: version {new.version}, effective {new.effective_date}" in out
    assert f"Changes since the version the bot last ran ({old.version}, effective {old.effective_date}):" in out
    changes = [line.strip() for line in out.split("Changes since", 1)[1].splitlines()[1:] if line.strip()]
    assert changes == [
        "added: cookies (Cookies)",
        "removed: changes (Changes to the Privacy Policy)",
        "changed: contact (How to Contact Us), English",
        changes[3],
    ], changes
    assert re.fullmatch(r"likely renamed: disclaimer → no-warranty \(Disclaimer; the texts are (9\d)% alike\)",
                        changes[3]), changes


def test_the_diff_names_the_languages_that_changed_and_pairs_renames_by_likeness() -> None:
    before = snapshot_of(load_policy(POLICY_DIR))
    assert diff(None, before).version_changed and not diff(None, before).sections_changed
    assert not diff(before, before).version_changed and not diff(before, before).sections_changed
    sections: dict[str, dict[str, SectionState]] = {}
    for lang, by_id in before.sections.items():
        sections[lang] = {}
        for section_id, state in by_id.items():
            if section_id == "scope":  # a new id, the same text: a rename
                state = replace(state, id="introduction")
            elif section_id == "consent":  # a new id and other words: removed and added
                state = replace(state, id="agreement", hash="x", text="Entirely different words here.")
            elif section_id == "protection" and lang == "ru":  # edited in Russian only
                state = replace(state, hash="edited")
            sections[lang][state.id] = state
    change = diff(before, PolicySnapshot("new", before.effective_date, sections))
    assert change.changed == {"protection": ["ru"]}
    assert [(r.old, r.new, r.similarity) for r in change.renamed] == [("scope", "introduction", 1.0)]
    assert change.added == ["agreement"] and change.removed == ["consent"]
    lines = describe(change, get_translator(), "ru")
    assert "изменён: protection (How We Protect Your Information), русский" not in lines  # titles in the language
    assert any(line.startswith("изменён: protection (") and line.endswith(", русский") for line in lines), lines
    assert "вероятно, переименован: scope → introduction" in " ".join(lines)
