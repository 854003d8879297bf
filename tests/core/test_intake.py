"""The channel-neutral intake: one reading of a message for every channel."""

from __future__ import annotations

import pytest

from bot import intake
from bot.intake import Inbound, Next
from bot.policy import PolicyEngine
from bot.requests.models import RequestType
from tests.conftest import REPO_ROOT


@pytest.fixture(scope="module")
def engine() -> PolicyEngine:
    return PolicyEngine.load(REPO_ROOT / "policy_text")


def test_intents_lead_to_one_next_step_each(engine: PolicyEngine) -> None:
    cases = {
        "Кому вы передаёте мои данные?": Next.ANSWER,
        "Удалите, пожалуйста, все мои данные": Next.REQUEST,
        "Соедините меня с живым человеком": Next.HUMAN,
        "Добрый день!": Next.GREETING,
        "How long do you keep my personal data after I stop using the service?": Next.NOT_IN_POLICY,
    }
    for text, expected in cases.items():
        assert intake.read(engine, Inbound(text=text)).next is expected, text


def test_the_reply_language_is_the_messages_or_the_hint_without_words(engine: PolicyEngine) -> None:
    assert intake.read(engine, Inbound(text="is it raining", lang_hint="ru")).lang == "en"
    assert intake.read(engine, Inbound(text="идёт ли дождь", lang_hint="en")).lang == "ru"
    for wordless in ("12345", "👍", "ivan@example.com", "https://example.com/"):
        assert intake.read(engine, Inbound(text=wordless, lang_hint="en")).lang == "en", wordless
        assert intake.read(engine, Inbound(text=wordless, lang_hint="ru")).lang == "ru", wordless


def test_a_request_names_its_address_only_when_it_gives_exactly_one(engine: PolicyEngine) -> None:
    one = intake.read(engine, Inbound(text="удалите мои данные, почта Ivan.P@Example.ru."))
    assert one.request_type is RequestType.DELETION
    assert one.contact_email == "ivan.p@example.ru" and not one.third_party
    two = intake.read(engine, Inbound(text="удалите мои данные: ivan@example.ru и petr@example.ru"))
    assert two.contact_email is None and two.third_party
    # Our own address is never the requester's.
    ours = intake.read(engine, Inbound(text="delete my data, I wrote to privacy@jetbit.ru",
                                       own_addresses=frozenset({"privacy@jetbit.ru"})))
    assert ours.contact_email is None and not ours.third_party
    # A channel that proved the sender's address: any other address is someone else's, none is a contact.
    mail = intake.read(engine, Inbound(text="Please delete my data and also anna@example.com's",
                                       sender_address="me@example.com"))
    assert mail.contact_email is None and mail.third_party


@pytest.mark.parametrize("text", ["удалите данные моей жены", "Please delete my colleague's account data",
                                  "удалите данные сотрудника Петрова"])
def test_someone_elses_data_is_noticed(engine: PolicyEngine, text: str) -> None:
    assert intake.read(engine, Inbound(text=text)).third_party


def test_only_plain_questions_and_greetings_interrupt_a_step(engine: PolicyEngine) -> None:
    def interrupts(text: str, free: bool) -> bool:
        return intake.interrupts_step(engine, text, "ru", expects_free_text=free) is not None

    assert interrupts("Кому вы передаёте мои данные?", True)
    assert interrupts("кому вы передаёте мои данные", False)
    assert not interrupts("кому вы передаёте мои данные", True)  # may be the details
    assert interrupts("привет", True) and interrupts("привет", False)
    for value in ("ivan@example.ru", "123456", "+7 900 000-00-00", "Иванов Иван", "телефон"):
        assert not interrupts(value, False) and not interrupts(value, True), value
