"""Handler tests through the real dispatcher and core, with a recording Bot API session."""

from __future__ import annotations

import json
import re

import pytest
from aiogram.methods import SendMessage

from bot.handoffs import HandoffService
from bot.outbox.base import OutboxMessage, PermanentDeliveryError
from bot.requests.models import Channel, Requester, RequestStatus, RequestType, VerificationMethod
from tests.telegram.conftest import OUTSIDER, STAFF, STAFF_CHAT, USER, Harness


async def _verified_request(h: Harness, user_id: int = USER, email: str = "p@example.com") -> str:
    result = await h.services.requests.create(
        type=RequestType.DELETION, channel=Channel.TELEGRAM, lang="ru",
        requester=Requester(telegram_user_id=user_id, telegram_chat_id=user_id, telegram_name="U", email=email),
        verified=VerificationMethod.EMAIL_CODE, actor="requester")
    await h.deliver()
    return result.request.id


async def test_start_greets_in_the_persons_language_and_escapes_their_name(harness: Harness) -> None:
    await harness.send(USER, "/start", lang="en")
    text = harness.last_text(USER)
    assert text.startswith("Hello, U&lt;b&gt;!")
    buttons = harness.last_buttons(USER)
    assert len(buttons) == 7 and any("Delete my data" in b for b in buttons)
    await harness.send(USER + 1, "/start", lang="de")  # neither ru nor en: Russian by default
    assert harness.last_text(USER + 1).startswith("Здравствуйте")


async def test_language_command_switches_and_is_remembered(harness: Harness) -> None:
    await harness.send(USER, "/language", lang="ru")
    await harness.press(USER, harness.last_buttons(USER)["English"])
    assert "English" in harness.last_text(USER)
    await harness.send(USER, "/help", lang="ru")  # Telegram still says ru; the choice wins
    assert harness.last_text(USER).startswith("What I can do")


async def test_question_is_answered_with_section_and_link_and_abstention_offers_a_person(harness: Harness) -> None:
    await harness.send(USER, "Кому вы передаёте мои данные?")
    answer = harness.last_text(USER)
    assert "https://jetbit.ru/policy/" in answer and "<b>" in answer
    assert set(harness.last_buttons(USER)) == {"👍 Это помогло", "👎 Не помогло", "👤 Связаться с сотрудником"}
    await harness.send(USER, "Сколько стоит разработка интернет-магазина под ключ?")
    assert "не нашёл ответа" in harness.last_text(USER)
    assert list(harness.last_buttons(USER)) == ["👤 Связаться с сотрудником"]


async def test_correction_flow_by_phone_is_marked_for_staff_verification(harness: Harness) -> None:
    h = harness
    await h.send(USER, "/start")
    await h.press(USER, h.last_buttons(USER)["✏️ Исправить мои данные"])
    assert "Какое поле" in h.last_text(USER)
    await h.send(USER, "телефон")
    await h.send(USER, "+7 900 000-00-00")
    await h.send(USER, "+7 900 111-22-33")
    await h.press(USER, h.last_buttons(USER)["✅ Это всё"])
    assert "адресу электронной почты или номеру телефона" in h.last_text(USER)
    await h.send(USER, "+7 (900) 111-22-33")
    summary = h.last_text(USER)
    assert "«+7 900 000-00-00» → «+7 900 111-22-33»" in summary and "проверят его сами" in summary
    await h.press(USER, h.last_buttons(USER)["✅ Подтвердить"])
    found = re.search(r"PR-\d{4}-\d{4}", h.last_text(USER))
    assert found, h.last_text(USER)
    request = await h.services.requests.get(found.group(0))
    assert request.status is RequestStatus.AWAITING_VERIFICATION
    assert request.verification_method is VerificationMethod.UNVERIFIED_PHONE
    assert request.flags.get("phone_unverified") is True
    assert request.corrections[0].wanted == "+7 900 111-22-33"

    await h.deliver()
    card = h.last_text(STAFF_CHAT)
    assert request.id in card and "НЕ проверен" in card
    assert set(h.last_buttons(STAFF_CHAT)) == {"☎️ Телефон проверен", "✖️ Отменить (личность не подтверждена)"}
    await h.press(STAFF, f"st:reject:{request.id}", chat_id=STAFF_CHAT)  # not offered in this state
    assert "уже в состоянии" in str(h.session.alerts()[-1].text)
    await h.press(STAFF, h.last_buttons(STAFF_CHAT)["☎️ Телефон проверен"], chat_id=STAFF_CHAT)
    assert (await h.services.requests.get(request.id)).status is RequestStatus.PENDING_REVIEW


async def test_email_code_flow_wrong_code_then_right_one(harness: Harness) -> None:
    h = harness
    await h.send(USER, "Удалите все мои данные")
    await h.press(USER, h.last_buttons(USER)["Пропустить"])
    await h.send(USER, "Me@Example.com")
    assert "шестизначный код на me@example.com" in h.last_text(USER)
    await h.deliver()
    code_mail = h.email.sent[-1]
    assert code_mail.recipient == "me@example.com" and code_mail.kind == "verification.code"
    code = re.search(r"\b\d{6}\b", code_mail.payload["text"])
    assert code
    wrong = "000000" if code.group(0) != "000000" else "111111"
    await h.send(USER, wrong)
    assert "Осталось 4 попытки" in h.last_text(USER)
    await h.send(USER, code.group(0))
    assert "Проверьте ваш запрос" in h.last_text(USER)
    await h.press(USER, h.last_buttons(USER)["✅ Подтвердить"])
    requests = await h.services.requests.for_telegram_user(USER)
    assert [r.status for r in requests] == [RequestStatus.PENDING_REVIEW]
    assert requests[0].verification_method is VerificationMethod.EMAIL_CODE


async def test_cancel_stops_a_flow_at_any_step(harness: Harness) -> None:
    h = harness
    await h.send(USER, "Хочу узнать, какие мои данные у вас есть")
    await h.send(USER, "только заказы")
    await h.send(USER, "/cancel")
    assert h.last_text(USER) == "Отменено."
    await h.send(USER, "/cancel")
    assert h.last_text(USER) == "Отменять нечего."


async def test_forged_callbacks_are_refused_and_audited(harness: Harness) -> None:
    h = harness
    await h.press(USER, "st:approve:PR-2026-0001")  # a staff button in a private chat
    await h.press(USER, "m:format_disk")  # an action the bot never offers
    await h.press(STAFF, "st:approve:PR-2099-9999", chat_id=STAFF_CHAT)  # no such request
    await h.press(STAFF, "st:destroy:PR-2099-9999", chat_id=STAFF_CHAT)
    alerts = h.session.alerts()
    assert len(alerts) == 4 and all(a.show_alert for a in alerts)
    events = await h.deps.repo.security_events()
    assert [e["event"] for e in events] == ["forged_callback"] * 4
    assert events[2]["details"]["reason"] == "unknown_request"

    request_id = await _verified_request(h)
    await h.press(USER, f"i:{request_id}")  # answering a question nobody asked: audited on the request
    trail = [e.event for e in await h.services.requests.audit_events(request_id)]
    assert "forged_callback" in trail


async def test_outsiders_in_the_staff_chat_are_refused_and_audited(harness: Harness) -> None:
    h = harness
    request_id = await _verified_request(h)
    await h.send(OUTSIDER, "/queue", chat_id=STAFF_CHAT)
    assert "только сотрудники" in h.last_text(STAFF_CHAT)
    await h.press(OUTSIDER, f"st:approve:{request_id}", chat_id=STAFF_CHAT)
    assert (await h.services.requests.get(request_id)).status is RequestStatus.PENDING_REVIEW
    refusal = [e for e in await h.services.requests.audit_events(request_id) if e.event == "not_staff_press"]
    # The trail (kept for good) records the refusal without naming who: that is in the security log.
    assert len(refusal) == 1 and refusal[0].actor == "telegram"
    # (whole numbers only: a timestamp's microseconds may contain the id's digits)
    assert not re.search(rf"\b{OUTSIDER}\b", json.dumps(refusal[0].details))
    events = await h.deps.repo.security_events()
    assert [e["event"] for e in events] == ["not_staff_command", "not_staff_press"]
    assert events[1]["user_id"] == OUTSIDER and refusal[0].details["security_event"] == 2
    await h.send(OUTSIDER, "просто болтаю", chat_id=STAFF_CHAT)  # chatter: ignored, not refused
    assert len(await h.deps.repo.security_events()) == 2


async def test_staff_reject_with_a_preset_reason_notifies_the_person(harness: Harness) -> None:
    h = harness
    request_id = await _verified_request(h)
    assert request_id in h.last_text(STAFF_CHAT)
    await h.press(STAFF, f"st:reject:{request_id}", chat_id=STAFF_CHAT)
    presets = h.last_buttons(STAFF_CHAT)
    await h.press(STAFF, presets["Нам не удалось подтвердить вашу личность."], chat_id=STAFF_CHAT)
    request = await h.services.requests.get(request_id)
    assert request.status is RequestStatus.REJECTED
    assert request.decision_reason == "Нам не удалось подтвердить вашу личность."
    await h.deliver()
    assert "отклонили" in h.last_text(USER) and "подтвердить вашу личность" in h.last_text(USER)
    # The card was edited in place: closed, no buttons, who decided.
    edits = [m for m in h.session.requests if type(m).__name__ == "EditMessageText" and request_id in str(m.text)]
    assert edits and edits[-1].reply_markup is None and f"tg:{STAFF}" in str(edits[-1].text)


async def test_need_info_question_and_the_persons_answer_attaches_to_the_request(harness: Harness) -> None:
    h = harness
    request_id = await _verified_request(h)
    await h.press(STAFF, f"st:info:{request_id}", chat_id=STAFF_CHAT)
    prompt = h.session.sent(STAFF_CHAT)[-1]
    # Typed without replying to the prompt: taken for chatter, nothing happens.
    await h.send(STAFF, "Укажите, пожалуйста, номер договора.", chat_id=STAFF_CHAT)
    assert (await h.services.requests.get(request_id)).status is RequestStatus.PENDING_REVIEW
    # As a reply to the prompt: shown back first, sent only on "Send".
    await h.send(STAFF, "Укажите, пожалуйста, номер договора.", chat_id=STAFF_CHAT,
                 reply_to_message_id=h.session.message_id_of(prompt))
    assert "номер договора" in h.last_text(STAFF_CHAT)
    assert (await h.services.requests.get(request_id)).status is RequestStatus.PENDING_REVIEW
    await h.press(STAFF, h.last_buttons(STAFF_CHAT)["📨 Отправить"], chat_id=STAFF_CHAT)
    assert (await h.services.requests.get(request_id)).status is RequestStatus.NEEDS_INFO
    await h.deliver()
    assert "номер договора" in h.last_text(USER)
    assert "✍️ Ответить" in h.last_buttons(USER)
    await h.send(USER, "Договор № 17 от 1 марта")  # answering straight away, without the button
    assert request_id in h.last_text(USER)
    assert (await h.services.requests.get(request_id)).status is RequestStatus.PENDING_REVIEW
    messages = await h.services.requests.messages(request_id)
    assert any("Договор № 17" in str(m) for m in messages)
    await h.press(USER, f"i:{request_id}")  # the button again, now that nothing is asked: refused
    assert "недоступно" in str(h.session.alerts()[-1].text)


async def test_talk_to_a_person_and_the_staff_reply_comes_back_as_a_reply(harness: Harness) -> None:
    h = harness
    await h.send(USER, "/start")
    await h.press(USER, h.last_buttons(USER)["👤 Связаться с сотрудником"])
    original = await h.send(USER, "Помогите <script>alert(1)</script>")
    assert "передано сотрудникам" in h.last_text(USER)
    await h.deliver()  # the handoff reaches the staff chat through the outbox
    forwarded = h.session.sent(STAFF_CHAT)[-1]
    assert isinstance(forwarded, SendMessage) and forwarded.parse_mode is None  # shown as typed, never as HTML
    assert "<script>alert(1)</script>" in str(forwarded.text) and "Ответьте на это сообщение" in str(forwarded.text)
    handoffs = await HandoffService(h.services.db, h.services.config).list()
    assert [(x.channel, x.reason) for x in handoffs] == [("telegram", "human")]  # also in `privacy-bot handoffs`
    staff_message_id = h.session.message_id_of(forwarded)
    await h.send(STAFF, "Добрый день! Уже смотрим.", chat_id=STAFF_CHAT, reply_to_message_id=staff_message_id)
    reply = h.session.sent(USER)[-1]
    assert isinstance(reply, SendMessage)
    assert "Уже смотрим" in str(reply.text) and reply.reply_to_message_id == original
    assert (await h.deps.repo.held_about(USER))["handoff_messages"] == 2
    # The handoff was answered: it leaves the open list.
    assert await HandoffService(h.services.db, h.services.config).list() == []
    # A reply to a post with no stored link is never routed by what the post says (a name can read
    # "(tg:ID)"): staff are told, the person named gets nothing.
    sent_to_user = len(h.session.sent(USER))
    await h.send(STAFF, "И ещё одно.", chat_id=STAFF_CHAT, reply_to_message_id=99999,
                 reply_to_text=f"Нужен сотрудник (№1, telegram)\nОт: U (tg:{USER})")
    assert len(h.session.sent(USER)) == sent_to_user
    assert "не связано с человеком" in h.last_text(STAFF_CHAT)


async def test_flood_and_length_limits(harness: Harness) -> None:
    h = harness
    await h.send(USER, "a" * 2001)
    assert "слишком длинное" in h.last_text(USER)
    for _ in range(31):
        await h.send(USER, "/help")
    # Told when they may write again (about a minute: the first of the 30 leaves the window then).
    notice = re.fullmatch(r".*слишком часто.*Напишите снова через (\d+) секунд[уы]?\.", h.last_text(USER), re.S)
    assert notice and 50 <= int(notice.group(1)) <= 60, h.last_text(USER)
    before = len(h.session.sent(USER))
    for _ in range(20):  # still flooding: dropped, and the notice is not repeated for each (it would flood too)
        await h.send(USER, "/help")
    await h.press(USER, "m:ask")
    assert len(h.session.sent(USER)) == before and not h.session.alerts()


async def test_blocked_user_is_recorded_and_the_notice_falls_back_to_the_verified_email(harness: Harness) -> None:
    h = harness
    request_id = await _verified_request(h)
    h.session.fail_next("SendMessage", 403, "Forbidden: bot was blocked by the user")
    with pytest.raises(PermanentDeliveryError):
        await h.senders["telegram"].send(OutboxMessage(1, "telegram", str(USER), "x", {"text": "hi"}))
    assert await h.deps.repo.is_blocked(USER)
    await h.send(USER, "/help")  # writing again means they unblocked the bot
    assert not await h.deps.repo.is_blocked(USER)
    h.session.fail_next("SendMessage", 403, "Forbidden: bot was blocked by the user")
    await h.services.requests.approve(request_id, by="staff:test")
    await h.deliver()
    assert await h.deps.repo.is_blocked(USER)
    fallback = [m for m in h.email.sent if m.payload.get("request_id") == request_id]
    assert fallback and fallback[-1].recipient == "p@example.com" and "одобрен" in fallback[-1].payload["text"]


async def test_privacy_and_forget_keep_what_the_law_requires(harness: Harness) -> None:
    h = harness
    request_id = await _verified_request(h)
    await h.press(USER, "m:human")
    await h.send(USER, "вопрос сотруднику")
    await h.send(USER, "/privacy")
    assert "Что бот хранит о вас" in h.last_text(USER)
    await h.send(USER, "/forget")
    # Asked first: nothing is erased until the button of this question is pressed.
    assert "Удалить данные переписки" in h.last_text(USER)
    ask = h.last_buttons(USER)
    assert (await h.deps.repo.held_about(USER))["handoff_messages"] == 1
    await h.press(USER, ask["Не удалять"])
    assert h.last_text(USER) == "Ничего не удалено."
    await h.press(USER, ask["🗑 Удалить"])  # the question was answered: stale
    assert "больше не действует" in str(h.session.alerts()[-1].text)
    await h.send(USER, "/forget")
    fresh = h.last_buttons(USER)
    for forged in (ask["🗑 Удалить"], "fg:erase:" + "0" * 16, "fg:erase:ёё", "fg:erase:"):  # older, made up
        await h.press(USER, forged)
        assert "больше не действует" in str(h.session.alerts()[-1].text)
    assert (await h.deps.repo.held_about(USER))["handoff_messages"] == 1
    await h.press(USER, fresh["🗑 Удалить"])
    assert request_id in h.last_text(USER)
    assert (await h.deps.repo.held_about(USER))["handoff_messages"] == 0
    # The handoff keeps the fact, not the words, and is closed.
    handoffs = await HandoffService(h.services.db, h.services.config).list(include_closed=True)
    assert [(x.text, x.sender, x.closed_by) for x in handoffs] == [("", "", "forgotten")]
    assert (await h.services.requests.get(request_id)).status is RequestStatus.PENDING_REVIEW


async def test_forget_keeps_a_step_in_progress_when_the_person_keeps_their_data(harness: Harness) -> None:
    h = harness
    await h.send(USER, "Удалите все мои данные")
    await h.press(USER, h.last_buttons(USER)["Пропустить"])
    await h.send(USER, "/forget")
    await h.press(USER, h.last_buttons(USER)["Не удалять"])
    await h.send(USER, "+7 900 000-00-00")  # the contact step is still the one asked
    assert "Проверьте ваш запрос" in h.last_text(USER)


async def test_forget_asks_too_late_is_stale(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    import time as real_time

    from handlers.telegram import private
    h = harness
    await h.send(USER, "/forget")
    ask = h.last_buttons(USER)
    later = real_time.time() + private.FORGET_ASK_SECONDS + 1
    monkeypatch.setattr(private.time, "time", lambda: later)
    await h.press(USER, ask["🗑 Удалить"])
    assert "больше не действует" in str(h.session.alerts()[-1].text)


async def test_privacy_names_days_in_the_right_form(harness: Harness) -> None:
    h = harness
    retention = h.services.config.retention
    for days, ru, en in ((1, "1 день", "1 day;"), (3, "3 дня", "3 days;"), (5, "5 дней", "5 days;"),
                         (21, "21 день", "21 days;")):
        monkey = retention.model_copy(update={"transcripts_days": days})
        object.__setattr__(h.services.config, "retention", monkey)
        await h.send(USER, "/privacy", lang="ru")
        assert f"— {ru};" in h.last_text(USER)
        await h.send(USER + 1, "/privacy", lang="en")
        assert f"kept {en}" in h.last_text(USER + 1) and " 1 days" not in h.last_text(USER + 1)


async def test_staff_commands(harness: Harness) -> None:
    h = harness
    request_id = await _verified_request(h)
    await h.send(STAFF, "/queue", chat_id=STAFF_CHAT)
    assert request_id in h.last_text(STAFF_CHAT)
    await h.send(STAFF, f"/request {request_id.lower()}", chat_id=STAFF_CHAT)
    assert request_id in h.last_text(STAFF_CHAT) and "✅ Одобрить" in h.last_buttons(STAFF_CHAT)
    await h.send(STAFF, "/overdue", chat_id=STAFF_CHAT)
    assert h.last_text(STAFF_CHAT) == "Просроченных запросов нет."
    await h.send(STAFF, "/stats", chat_id=STAFF_CHAT)
    assert "Открыто: 1" in h.last_text(STAFF_CHAT)
    await h.send(STAFF, "/request PR-1999-0001", chat_id=STAFF_CHAT)
    assert "не найден" in h.last_text(STAFF_CHAT)


async def test_second_staff_press_on_a_decided_card_says_who_decided(harness: Harness) -> None:
    h = harness
    request_id = await _verified_request(h)
    await h.press(STAFF, f"st:approve:{request_id}", chat_id=STAFF_CHAT)
    await h.press(STAFF, f"st:approve:{request_id}", chat_id=STAFF_CHAT)
    alert = h.session.alerts()[-1]
    assert alert.show_alert and f"tg:{STAFF}" in str(alert.text) and "одобрен" in str(alert.text)
    await h.press(STAFF, f"st:complete:{request_id}", chat_id=STAFF_CHAT)
    # a deletion: what was destroyed is chosen first (tests/telegram/test_staff_cards.py has the whole walk)
    await h.click(STAFF, "контактные данные")
    await h.click(STAFF, "Далее")
    await h.click(STAFF, "CRM")
    await h.click(STAFF, "Подтвердить")
    assert (await h.services.requests.get(request_id)).status is RequestStatus.COMPLETED


async def test_long_queue_is_cut_to_fit_one_message(harness: Harness) -> None:
    h = harness
    for n in range(45):
        await h.services.requests.create(
            type=RequestType.ACCESS, channel=Channel.TELEGRAM, lang="ru",
            requester=Requester(telegram_user_id=7000 + n, telegram_chat_id=7000 + n, email=f"p{n}@example.com"),
            verified=VerificationMethod.EMAIL_CODE, actor="test")
    await h.send(STAFF, "/queue", chat_id=STAFF_CHAT)
    text = h.last_text(STAFF_CHAT)
    assert text.count("• PR-") == 40 and "… и ещё 5" in text and len(text) < 4096


def test_the_sender_names_the_answer_state_the_router_uses() -> None:
    from handlers.telegram.private import Conversation
    from handlers.telegram.senders import INFO_ANSWER_STATE
    assert Conversation.info_answer.state == INFO_ANSWER_STATE


async def test_a_failing_handler_tells_the_person_instead_of_going_silent(harness: Harness,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(text: str, lang: str | None = None) -> None:
        raise RuntimeError("engine down")

    monkeypatch.setattr(harness.services.engine, "understand", broken)
    await harness.send(USER, "Какие cookies вы используете?", lang="en")
    assert harness.last_text(USER).startswith("Sorry, something went wrong")


async def test_after_confirming_the_person_hears_sent_then_the_number_in_that_order(harness: Harness) -> None:
    """The outbox worker runs beside the handlers, as in the bot: the core's notification (the number)
    must not overtake the handler's own reply that announces it."""
    import asyncio

    from bot.outbox.worker import OutboxWorker
    from bot.verification import CODE_KIND, CodeMail

    h = harness
    stop = asyncio.Event()
    worker = OutboxWorker(h.services.db, h.senders, h.services.config, repository=h.services.outbox,
                          fillers={CODE_KIND: CodeMail(h.deps.codes, h.services.translator)})
    running = asyncio.create_task(worker.run(stop))
    try:
        for attempt in range(3):  # the race this guards against is a matter of scheduling: try it a few times
            user = USER + 100 + attempt
            await h.send(user, "Удалите все мои данные")
            await h.press(user, h.last_buttons(user)["Пропустить"])
            email = f"order{attempt}@example.com"
            await h.send(user, email)
            code = None
            for _ in range(100):
                mails = [m for m in h.email.sent if m.recipient == email]
                if mails:
                    code = re.search(r"\b\d{6}\b", mails[-1].payload["text"])
                    break
                await asyncio.sleep(0.02)
            assert code
            await h.send(user, code.group(0))
            mark = len(h.session.sent(user))
            await h.press(user, h.last_buttons(user)["✅ Подтвердить"], message_id=999)
            for _ in range(100):
                if any("зарегистрирован" in str(m.text) for m in h.session.sent(user)[mark:]):
                    break
                await asyncio.sleep(0.02)
            texts = [str(m.text) for m in h.session.sent(user)[mark:] if isinstance(m, SendMessage)]
            assert len(texts) == 2 and "следующим сообщением" in texts[0] and "зарегистрирован" in texts[1], texts
    finally:
        stop.set()
        await running
