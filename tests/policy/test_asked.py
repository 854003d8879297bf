"""The questions people asked (exported from the tuning sets) are engine examples: the export is in step
with the sets, no held-out message leaks into anything the engine reads, and a broken file is refused."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import REPO_ROOT
from bot.policy import Intent, PolicyEngine, PolicyLoadError
from bot.policy.loader import load_policy

from .conftest import POLICY_DIR, URL

MESSAGES = REPO_ROOT / "tests" / "data" / "messages"


def _normal(text: str) -> str:
    return " ".join(text.lower().replace("ё", "е").split())


def test_exported_questions_match_the_tuning_sets() -> None:
    done = subprocess.run([sys.executable, "scripts/export_asked.py", "--check"], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_no_held_out_message_is_in_anything_the_engine_reads() -> None:
    held_out = {_normal(json.loads(line)["text"]) for path in [*MESSAGES.glob("holdout*.jsonl"),
                                                               MESSAGES / "quotes.jsonl"]
                for line in path.read_text(encoding="utf-8").splitlines()}
    assert len(held_out) > 800  # holdout7, holdout8 and the quote set are all there
    rows = [json.loads(line) for lang in ("en", "ru")
            for line in (POLICY_DIR / "examples" / lang / "asked.jsonl").read_text(encoding="utf-8").splitlines()]
    asked = {_normal(row["text"]) for row in rows if "text" in row}
    assert asked and not asked & held_out
    # Curated examples are written by hand; a short everyday question ("how do you protect my data?")
    # may coincide with one in a held-out set, a whole message may not.
    curated = " \n ".join(_normal(path.read_text(encoding="utf-8"))
                          for path in (POLICY_DIR / "examples").rglob("*.toml"))
    assert [text for text in held_out if len(text.split()) >= 8 and text in curated] == []


def test_asked_questions_teach_the_engine(policy_copy: Path) -> None:
    # A wording no curated example has: without the asked file it is not placed, with it it is.
    text = "кто у вас там в конторе вообще в курсе моей фамилии и мобилы"
    for lang in ("ru", "en"):
        (policy_copy / "examples" / lang / "asked.jsonl").write_text("", encoding="utf-8")
    before = PolicyEngine.load(policy_copy, url=URL, min_confidence=0.35).understand(text, lang="ru")
    (policy_copy / "examples" / "ru" / "asked.jsonl").write_text("".join(
        json.dumps({"text": line, "section": "protection"}, ensure_ascii=False) + "\n"
        for line in ("кто в конторе в курсе моей фамилии и мобилы", "в конторе кто в курсе про мою мобилу",
                     "кто из конторы в курсе моей фамилии")), encoding="utf-8")
    after = PolicyEngine.load(policy_copy, url=URL, min_confidence=0.35).understand(text, lang="ru")
    assert [s.id for s in before.sections][:1] != ["protection"]
    assert after.intent == Intent.QUESTION and after.sections[0].id == "protection"


def test_asked_requests_teach_the_engine_and_their_typos_are_not_words(policy_copy: Path) -> None:
    text = "вычистите меня из своих табличек"
    for lang in ("ru", "en"):
        (policy_copy / "examples" / lang / "asked.jsonl").write_text("", encoding="utf-8")
    before = PolicyEngine.load(policy_copy, url=URL).understand(text, lang="ru")
    (policy_copy / "examples" / "ru" / "asked.jsonl").write_text(
        json.dumps({"text": "вычистите меня из ваших табличек, пожалуйста", "intent": "deletion"}, ensure_ascii=False) + "\n"
        + json.dumps({"text": "вычистите меня из табличек", "intent": "deletion"}, ensure_ascii=False) + "\n"
        + json.dumps({"text": "вычистите мои данные из табличек", "intent": "deletion"}, ensure_ascii=False) + "\n"
        + json.dumps({"text": "исправте мою фамилию", "intent": "correction"}, ensure_ascii=False) + "\n",
        encoding="utf-8")
    engine = PolicyEngine.load(policy_copy, url=URL)
    assert before.intent is not Intent.DELETION
    assert engine.understand(text, lang="ru").intent is Intent.DELETION
    # The typo in a person's message is read as the word it stands for, and is not learnt as a word.
    normaliser = engine._models["ru"].normaliser
    assert normaliser.tokens("исправте") == normaliser.tokens("исправьте")
    assert not normaliser.in_vocabulary("исправт")


@pytest.mark.parametrize(("content", "problem"), [
    ("{not json\n", "asked.jsonl:1: not valid JSON"),
    ('{"text": "ok?", "section": "protection"}\n{"text": "", "section": "protection"}\n',
     'asked.jsonl:2: needs a non-empty "text"'),
    ('{"text": "who sees it?", "section": "nowhere"}\n', "asked.jsonl:1: 'nowhere' is not a section id"),
    ('{"text": "hi", "intent": "dance"}\n', "asked.jsonl:1: 'dance' is not an intent"),
])
def test_broken_asked_file_is_refused_with_file_line_and_problem(policy_copy: Path, content: str,
                                                                 problem: str) -> None:
    (policy_copy / "examples" / "en" / "asked.jsonl").write_text(content, encoding="utf-8")
    with pytest.raises(PolicyLoadError, match=problem.replace("(", r"\(").replace("'", "'")):
        PolicyEngine.load(policy_copy, url=URL)


def test_labels_given_before_a_section_existed_are_set_aside_when_it_reads_closer(tmp_path: Path) -> None:
    """A policy gains a section on how long data is kept. Questions labelled "not in the policy" before it
    existed must not teach the engine to turn its questions away; those that read closer to another
    section stay as they are."""
    policy_copy = tmp_path / "policy_text"
    shutil.copytree(POLICY_DIR, policy_copy)
    for lang, title, text in (
            ("en", "How Long We Keep Your Data",
             "We keep personal data for as long as the contract lasts and delete it within 30 days after it ends. "
             "Backups holding personal data are overwritten within 90 days."),
            ("ru", "Сколько мы храним данные",
             "Мы храним персональные данные, пока действует договор, и удаляем их в течение 30 дней после его "
             "окончания. Резервные копии с персональными данными перезаписываются в течение 90 дней.")):
        (policy_copy / lang / "95-retention.txt").write_text(
            f"---\nid: retention\ntitle: {title}\norder: 14\n---\n{text}\n", encoding="utf-8")
    # The owner's examples for it, as `privacy-bot policy check` asks (at least five).
    for lang, examples in (("en", ["How long is my data stored?", "When do you delete my data?",
                                   "How long are backups kept?", "What is the retention period?",
                                   "Do you keep my data after the contract ends?"]),
                           ("ru", ["Сколько хранятся мои данные?", "Когда вы удаляете мои данные?",
                                   "Как долго хранятся резервные копии?", "Какой срок хранения данных?",
                                   "Храните ли вы данные после окончания договора?"])):
        with (policy_copy / "examples" / lang / "sections.toml").open("a", encoding="utf-8") as stream:
            stream.write(f"\n[retention]\nexamples = {json.dumps(examples, ensure_ascii=False)}\n")
    for lang, asked in (("en", ["how long do you keep my data?", "how long do you store my personal data",
                                "do you sell my data to anyone?"]),
                        ("ru", ["сколько вы храните мои данные?", "как долго хранятся мои персональные данные",
                                "вы продаёте мои данные?"])):
        ids = [s.id for s in load_policy(POLICY_DIR).sections[lang]]
        rows = [json.dumps({"labelled_against": ids})]
        rows += [json.dumps({"text": text, "section": None}) for text in asked[:2] * 20]
        rows += [json.dumps({"text": asked[2], "section": "disclosure"})]
        (policy_copy / "examples" / lang / "asked.jsonl").write_text("\n".join(rows) + "\n", encoding="utf-8")
    engine = PolicyEngine.load(policy_copy, cache_dir=tmp_path / "cache")
    for text in ("How long will you keep my data after I leave?", "Как долго вы будете хранить мои данные?"):
        understood = engine.understand(text)
        assert not understood.unanswered and understood.sections[0].id == "retention", (text, understood)
    # A label the new section does not touch still teaches: selling data is disclosure.
    for text in ("do you sell my data to anyone?", "вы продаёте мои данные?"):
        assert engine.understand(text).sections[0].id == "disclosure", text
