"""The learnt engine: staff teach it at once, fitted models are cached safely, and "the policy does not
say" is a label it learns like any other."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from bot.policy import Intent, PolicyEngine
from bot.policy.models import LearntExample

from .conftest import POLICY_DIR, URL


@pytest.fixture
def own_engine() -> PolicyEngine:
    # learn() changes an engine: never the shared one.
    return PolicyEngine.load(POLICY_DIR, url=URL)


def test_staff_teach_a_section_and_the_same_question_is_then_answered_so(own_engine: PolicyEngine) -> None:
    text = "а лампочка в переговорке у вас на датчике движения? она меня запоминает?"
    before = own_engine.understand(text, lang="ru")
    target = "protection" if (before.sections[:1] and before.sections[0].id) != "protection" else "contact"
    own_engine.learn("ru", text, target)
    after = own_engine.understand(text, lang="ru")
    assert after.intent is Intent.QUESTION and not after.abstained
    assert after.sections[0].id == target and after.answer is not None and after.answer.section_id == target
    # A message far from it is unaffected.
    assert own_engine.understand("удалите мои данные", lang="ru").intent is Intent.DELETION


def test_staff_say_the_policy_does_not_answer_it(own_engine: PolicyEngine) -> None:
    text = "do you run my details through an AI model to score me?"
    own_engine.learn("en", text, None)
    result = own_engine.understand(text, lang="en")
    assert result.intent is Intent.QUESTION and result.abstained and result.unanswered and result.answer is None
    assert result.sections, "the sections that came closest are still offered to staff"


def test_learning_an_unknown_section_is_refused(own_engine: PolicyEngine) -> None:
    with pytest.raises(ValueError):
        own_engine.learn("en", "anything", "no-such-section")


def test_examples_taught_before_a_start_are_fitted(tmp_path: Path) -> None:
    text = "is the coffee machine in your office logging who uses it?"
    engine = PolicyEngine.load(POLICY_DIR, url=URL, cache_dir=tmp_path,
                               learnt=[LearntExample("en", text, "protection")] * 3)
    assert engine.understand(text, lang="en").sections[0].id == "protection"


def test_unanswered_questions_are_learnt_from_labelled_data(policy_copy: Path) -> None:
    # "section": null in asked.jsonl teaches "the policy does not say this".
    asked = policy_copy / "examples" / "en" / "asked.jsonl"
    lines = asked.read_text(encoding="utf-8").splitlines()
    assert any(json.loads(line).get("section", "") is None for line in lines)
    asked.write_text("\n".join(line for line in lines if json.loads(line).get("section", "") is not None) + "\n",
                     encoding="utf-8")
    with pytest.raises(Exception, match="not a section id"):
        bad = policy_copy / "examples" / "ru" / "asked.jsonl"
        bad.write_text(json.dumps({"text": "вопрос?", "section": "nope"}) + "\n", encoding="utf-8")
        PolicyEngine.load(policy_copy, url=URL)


def test_fitted_models_are_cached_and_refitted_when_the_policy_changes(policy_copy: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = PolicyEngine.load(policy_copy, url=URL, cache_dir=cache)
    files = sorted(p.name for p in cache.glob("engine-*.pickle"))
    assert len(files) == 2 and (cache.stat().st_mode & 0o777) == 0o700
    again = PolicyEngine.load(policy_copy, url=URL, cache_dir=cache)
    question = "who else gets my phone number?"
    assert again.understand(question).as_dict() == first.understand(question).as_dict()
    scope = policy_copy / "en" / "01-scope.txt"
    scope.write_text(scope.read_text(encoding="utf-8") + "\nThis line is new.\n", encoding="utf-8")
    PolicyEngine.load(policy_copy, url=URL, cache_dir=cache)
    assert len(set(p.name for p in cache.glob("engine-en-*.pickle")) - set(files)) == 1


def test_a_cache_others_may_write_is_not_read(policy_copy: Path, tmp_path: Path) -> None:
    cache = tmp_path / "shared"
    cache.mkdir()
    os.chmod(cache, 0o777)
    planted = cache / "engine-en-0.pickle"
    planted.write_bytes(b"not a model")
    engine = PolicyEngine.load(policy_copy, url=URL, cache_dir=cache)
    assert engine.understand("hello", lang="en").intent is Intent.GREETING
    assert sorted(p.name for p in cache.iterdir()) == ["engine-en-0.pickle"]  # nothing written or read there
