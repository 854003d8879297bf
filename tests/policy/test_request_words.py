"""A deletion request needs a word of removing, withdrawing or stopping.

"Кому вы передаёте данные, которые я вам отправил?" shares most of its words with the curated
"удалите данные, которые я вам отправил", but asks nothing to be deleted. Sentences are our own.
"""

from __future__ import annotations

import pytest

from bot.policy import Intent, PolicyEngine


@pytest.mark.parametrize(("text", "lang"), [
    ("кому вы передаёте данные, которые я вам отправил?", "ru"),
    ("who sees the documents I sent you last week?", "en"),
])
def test_sharing_words_with_a_deletion_example_is_not_a_deletion(engine: PolicyEngine, text: str,
                                                                lang: str) -> None:
    assert engine.understand(text, lang=lang).intent == Intent.QUESTION


@pytest.mark.parametrize(("text", "lang"), [
    ("уберите меня из вашей базы", "ru"),
    ("забудьте мой номер", "ru"),
    ("снесите мою анкету", "ru"),
    ("не хочу больше, чтобы вы хранили мою почту", "ru"),
    ("get rid of my details", "en"),
    ("I want out of your mailing list", "en"),
    ("I don't want you keeping my phone number anymore", "en"),
])
def test_deletion_requests_in_other_words_are_still_deletions(engine: PolicyEngine, text: str, lang: str) -> None:
    assert engine.understand(text, lang=lang).intent == Intent.DELETION


@pytest.mark.parametrize(("text", "lang", "intent"), [
    # "contact person" is a role in a letter, not a wish to talk to a person.
    ("From next week I am the contact person for our account, please update your records.", "en", Intent.CORRECTION),
    ("С понедельника контактным лицом по нашему договору будет Ирина, поменяйте, пожалуйста, в записях.", "ru",
     Intent.CORRECTION),
])
def test_contact_person_is_a_role_not_a_request_for_a_human(engine: PolicyEngine, text: str, lang: str,
                                                            intent: Intent) -> None:
    assert engine.understand(text, lang=lang).intent == intent
