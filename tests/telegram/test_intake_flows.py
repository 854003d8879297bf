"""The one intake as a person in the chat meets it: reply language, plain questions inside a flow, the
address given in the first message, an address proven minutes ago, duplicates found before anything is
asked, someone else's data flagged for staff."""

from __future__ import annotations

import re

from bot.requests.models import RequestStatus, VerificationMethod
from tests.telegram.conftest import USER, Harness


async def _code(h: Harness, to: str) -> str:
    await h.deliver()
    mail = h.email.sent[-1]
    assert mail.recipient == to and mail.kind == "verification.code"
    found = re.search(r"\b\d{6}\b", mail.payload["text"])
    assert found
    return found.group(0)


async def test_every_reply_follows_the_language_of_the_message_it_answers(harness: Harness) -> None:
    h = harness
    # Telegram says Russian; the person writes English: the whole reply is English, not only policy answers.
    await h.send(USER, "what's the weather like in Moscow today", lang="ru")
    assert h.last_text(USER).startswith("I could not find")
    await h.send(USER, "hello there", lang="ru")
    assert h.last_text(USER).startswith("Hello!")
    # After choosing English, a Russian question still gets Russian.
    await h.send(USER, "/language")
    await h.press(USER, h.last_buttons(USER)["English"])
    await h.send(USER, "Какая сегодня погода в Москве?")
    assert h.last_text(USER).startswith("Я не нашёл")
    # A message without words keeps the chat's language.
    await h.send(USER, "12345")
    assert not re.search("[а-яё]", h.last_text(USER), re.IGNORECASE)


async def test_a_flow_started_in_english_goes_on_in_english_in_a_russian_chat(harness: Harness) -> None:
    h = harness
    await h.send(USER, "Please delete all my personal data", lang="ru")
    assert "delete your personal data" in h.last_text(USER)
    await h.press(USER, h.last_buttons(USER)["Skip"], lang="ru")
    assert "email address or phone number" in h.last_text(USER)
    await h.send(USER, "+7 900 000-00-00", lang="ru")
    assert "Confirm" in " ".join(h.last_buttons(USER))


async def test_the_greeting_uses_a_real_name_or_none(harness: Harness) -> None:
    h = harness
    await h.send(USER, "/start", lang="en")
    assert h.last_text(USER).startswith("Hello, U&lt;b&gt;!")
    update = {"message": {"message_id": 900, "date": 0, "chat": {"id": USER + 7, "type": "private", "first_name": " "},
                          "from": {"id": USER + 7, "is_bot": False, "first_name": " ", "language_code": "ru"},
                          "text": "/start"}}
    await h._feed(update)
    text = h.last_text(USER + 7)
    assert text.startswith("Здравствуйте! Я помощник") and "Здравствуйте, " not in text


async def test_a_plain_question_inside_a_flow_is_answered_and_the_step_asked_again(harness: Harness) -> None:
    h = harness
    await h.send(USER, "Удалите все мои данные")
    await h.press(USER, h.last_buttons(USER)["Пропустить"])
    asked = len(h.session.sent(USER))
    # At the address step, a question is not an invalid address: it is answered, then the step comes back.
    await h.send(USER, "а кому вы передаёте мои персональные данные")
    replies = [str(m.text) for m in h.session.sent(USER)[asked:]]
    assert len(replies) == 2
    assert "https://jetbit.ru/policy/" in replies[0]
    assert "адресу электронной почты или номеру телефона" in replies[1]
    # The flow is where it was: an address is still taken as the address.
    await h.send(USER, "me@example.com")
    assert "шестизначный код на me@example.com" in h.last_text(USER)
    # At the code step, a greeting is answered and the code asked for again; nothing counts as an attempt.
    await h.send(USER, "привет")
    assert "шестизначный код, который я отправил на me@example.com" in h.last_text(USER)
    await h.send(USER, await _code(h, "me@example.com"))
    assert "Проверьте ваш запрос" in h.last_text(USER)


async def test_free_text_steps_keep_statements_as_values(harness: Harness) -> None:
    h = harness
    await h.send(USER, "Удалите все мои данные")
    # Details that happen to talk about the policy are details, not a question to answer.
    await h.send(USER, "удалите всё, что вы передали третьим лицам, и данные из формы обратной связи")
    assert "адресу электронной почты или номеру телефона" in h.last_text(USER)


async def test_the_address_in_the_first_message_is_used_and_a_fresh_proof_is_not_asked_again(
        harness: Harness) -> None:
    h = harness
    await h.send(USER, "удалите мои данные, почта Ivan@Example.ru")
    await h.press(USER, h.last_buttons(USER)["Пропустить"])
    sent = [str(m.text) for m in h.session.sent(USER)[-2:]]
    assert "ivan@example.ru" in sent[0] and "шестизначный код на ivan@example.ru" in sent[1]
    await h.send(USER, await _code(h, "ivan@example.ru"))
    await h.press(USER, h.last_buttons(USER)["✅ Подтвердить"])
    [deletion] = await h.services.requests.for_telegram_user(USER)
    assert deletion.requester.email == "ivan@example.ru"
    assert deletion.verification_method is VerificationMethod.EMAIL_CODE
    mails = len(h.email.sent)

    # Minutes later, another request with the same address: no second code.
    await h.send(USER, "Хочу узнать, какие мои данные у вас есть")
    await h.press(USER, h.last_buttons(USER)["Пропустить"])
    await h.send(USER, "ivan@example.ru")
    assert "подтверждён кодом несколько минут назад" in " ".join(str(m.text) for m in h.session.sent(USER)[-2:])
    await h.press(USER, h.last_buttons(USER)["✅ Подтвердить"])
    await h.deliver()
    assert not [m for m in h.email.sent[mails:] if m.kind == "verification.code"]
    access = [r for r in await h.services.requests.for_telegram_user(USER) if r.id != deletion.id]
    assert [r.status for r in access] == [RequestStatus.PENDING_REVIEW]

    # Another address is never taken as proven by the first one's code.
    await h.send(USER, "Исправьте мои данные")
    await h.send(USER, "телефон")
    await h.send(USER, "+7 900 000-00-01")
    await h.send(USER, "+7 900 000-00-02")
    await h.press(USER, h.last_buttons(USER)["✅ Это всё"])
    await h.send(USER, "other@example.ru")
    assert "шестизначный код на other@example.ru" in h.last_text(USER)


async def test_a_recent_proof_belongs_to_one_person(harness: Harness) -> None:
    h = harness
    await h.send(USER, "удалите мои данные, почта ivan@example.ru")
    await h.press(USER, h.last_buttons(USER)["Пропустить"])
    await h.send(USER, await _code(h, "ivan@example.ru"))
    # Someone else typing the same address minutes later still has to prove it.
    await h.send(USER + 1, "Удалите мои данные")
    await h.press(USER + 1, h.last_buttons(USER + 1)["Пропустить"])
    await h.send(USER + 1, "ivan@example.ru")
    assert "шестизначный код на ivan@example.ru" in h.last_text(USER + 1)


async def _by_phone(h: Harness, first_message: str) -> None:
    """A request from its first message to Confirm, with a phone number (no code)."""
    await h.send(USER, first_message)
    await h.press(USER, h.last_buttons(USER)["Пропустить"])
    await h.send(USER, "+7 900 000-00-00")
    await h.press(USER, h.last_buttons(USER)["✅ Подтвердить"])


async def test_a_duplicate_is_found_before_anything_is_asked(harness: Harness) -> None:
    h = harness
    await _by_phone(h, "Удалите все мои данные")
    [first] = await h.services.requests.for_telegram_user(USER)
    await h.send(USER, "удалите мои данные пожалуйста")
    told = h.last_text(USER)
    assert "уже есть открытый запрос" in told and first.id in told
    # Nothing is asked: a plain message afterwards is read as a new message, not as a step's value.
    await h.send(USER, "+7 900 000-00-00")
    assert len(await h.services.requests.for_telegram_user(USER)) == 1


async def test_someone_elses_data_is_flagged_for_staff(harness: Harness) -> None:
    h = harness
    await _by_phone(h, "удалите данные моей жены из вашей базы")
    [request] = await h.services.requests.for_telegram_user(USER)
    assert request.flags.get("third_party_mentioned") is True
