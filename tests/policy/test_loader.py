"""Loading the policy sections: exact text, metadata, version, and refusal of malformed files."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bot.config import REPO_ROOT
from bot.policy import PolicyEngine, PolicyLoadError
from bot.policy.loader import load_policy

from .conftest import POLICY_DIR, URL

SECTION_IDS = ["scope", "personal-data", "non-personal-data", "disclosure", "public-access", "legal-requirement",
               "service-delivery", "third-party-services", "protection", "consent", "disclaimer", "changes",
               "contact"]


def test_english_sections_rebuild_the_seed_policy_word_for_word() -> None:
    seed = (REPO_ROOT / "tests" / "data" / "privacy-policy.en.txt").read_text(encoding="utf-8")
    policy = load_policy(POLICY_DIR)
    assert policy.full_text("en") == seed


def test_both_languages_have_exactly_the_required_sections_in_order() -> None:
    policy = load_policy(POLICY_DIR)
    for lang in ("en", "ru"):
        assert [s.id for s in policy.sections[lang]] == SECTION_IDS
    ru = {s.id: s for s in policy.sections["ru"]}
    en = {s.id: s for s in policy.sections["en"]}
    for section_id in SECTION_IDS:
        assert ru[section_id].parent == en[section_id].parent
        assert ru[section_id].order == en[section_id].order
        # The Russian text is a translation: Cyrillic, and the same number of paragraphs.
        assert len(ru[section_id].paragraphs) == len(en[section_id].paragraphs)
        assert any("а" <= ch <= "я" for ch in ru[section_id].text.lower())
    assert en["public-access"].parent == "disclosure"
    assert en["personal-data"].group == "Data collected during visits"
    assert en["scope"].heading == ""


def test_version_and_effective_date() -> None:
    policy = load_policy(POLICY_DIR)
    assert len(policy.version) == 12 and int(policy.version, 16) >= 0
    assert isinstance(policy.effective_date, dt.date)


def test_editing_a_section_changes_version_and_answer(policy_copy: Path) -> None:
    before = PolicyEngine.load(policy_copy, url=URL)
    path = policy_copy / "en" / "13-contact.txt"
    path.write_text(path.read_text(encoding="utf-8").replace("+7 981 989-53-11", "+7 900 000-00-00"),
                    encoding="utf-8")
    after = PolicyEngine.load(policy_copy, url=URL)
    assert after.policy_version != before.policy_version
    result = after.understand("what is your phone number?", lang="en")
    assert result.sections[0].id == "contact"
    assert result.answer is not None and "+7 900 000-00-00" in result.answer.text
    assert result.policy_version == after.policy_version


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("id: contact\ntitle: X\norder: 13\n---\ntext\n", "must start with a '---' header line"),
        ("---\nid: contact\ntitle: X\norder: 13\ntext\n", "header is not closed"),
        ("---\nid: contact\norder: 13\n---\ntext\n", "missing header key 'title'"),
        ("---\nid: contact\ntitle: X\norder: thirteen\n---\ntext\n", "order must be a whole number"),
        ("---\nid: contact\ntitle: X\norder: 13\ncolour: red\n---\ntext\n", "unknown header key 'colour'"),
        ("---\nid: contact\ntitle: X\ntitle: Y\norder: 13\n---\ntext\n", "duplicate header key 'title'"),
        ("---\nid: Contact Us\ntitle: X\norder: 13\n---\ntext\n", "invalid id"),
        ("---\nid: contact\ntitle: X\norder: 13\n---\n\n", "the section has no text"),
        ("---\nid: contact\ntitle: X\norder: 13\nparent: nowhere\n---\ntext\n", "parent 'nowhere' is not a section id"),
        ("---\nid: changes\ntitle: X\norder: 13\n---\ntext\n", "duplicate id 'changes'"),
        ("---\nid: contact\ntitle: X\norder: 12\n---\ntext\n", "duplicate order 12"),
        ("---\nid: contact\ntitle X\norder: 13\n---\ntext\n", "expected 'key: value'"),
    ],
)
def test_malformed_section_file_is_refused_with_file_and_problem(policy_copy: Path, content: str,
                                                                 problem: str) -> None:
    (policy_copy / "en" / "13-contact.txt").write_text(content, encoding="utf-8")
    with pytest.raises(PolicyLoadError) as caught:
        PolicyEngine.load(policy_copy, url=URL)
    message = str(caught.value)
    assert "13-contact.txt" in message
    assert problem in message


def test_non_utf8_file_is_refused(policy_copy: Path) -> None:
    (policy_copy / "ru" / "13-contact.txt").write_bytes("---\nid: contact\n".encode("cp1251") + b"\xff\xfe")
    with pytest.raises(PolicyLoadError, match=r"13-contact\.txt: not UTF-8"):
        load_policy(policy_copy)


def test_languages_must_have_the_same_sections(policy_copy: Path) -> None:
    (policy_copy / "ru" / "11-disclaimer.txt").unlink()
    with pytest.raises(PolicyLoadError, match=r"ru: missing sections \['disclaimer'\] \(present in en\)"):
        load_policy(policy_copy)


def test_policy_toml_needs_an_effective_date(policy_copy: Path) -> None:
    (policy_copy / "policy.toml").write_text('effective_date = "soon"\n', encoding="utf-8")
    with pytest.raises(PolicyLoadError, match=r"policy\.toml: effective_date must be a date"):
        load_policy(policy_copy)


def test_curated_examples_must_name_real_sections(policy_copy: Path) -> None:
    path = policy_copy / "examples" / "en" / "sections.toml"
    path.write_text(path.read_text(encoding="utf-8") + '\n[cookies-policy]\nexamples = ["x"]\n', encoding="utf-8")
    with pytest.raises(PolicyLoadError, match=r"sections\.toml: \[cookies-policy\] is not a section id"):
        PolicyEngine.load(policy_copy, url=URL)


def test_broken_examples_toml_is_refused(policy_copy: Path) -> None:
    (policy_copy / "examples" / "ru" / "intents.toml").write_text("[deletion\nexamples = 1\n", encoding="utf-8")
    with pytest.raises(PolicyLoadError, match=r"intents\.toml: not valid TOML"):
        PolicyEngine.load(policy_copy, url=URL)
