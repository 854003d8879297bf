"""Staff alerts and ids render as text people can read and copy.

Plain-text outputs (callback alerts, the core's notifications, the console, the command line, email)
carry values as typed; HTML outputs carry them escaped. No integer is printed with digit grouping: the
integers messages carry are mostly identifiers (Telegram user and chat ids, handoff ids, request
numbers), and "tg 1 000 001" cannot be copied.
"""

from __future__ import annotations

import io
import re
import time
from datetime import UTC, datetime
from typing import Any

import pytest
from aiogram import Bot
from aiogram.client.default import DefaultBotProperties

from bot.i18n import LANGUAGES, LOCALES_DIR, Translator
from bot.requests.errors import AlreadyDecided
from bot.requests.models import Channel, Requester, RequestType, VerificationMethod
from handlers.telegram.console import ConsoleSession
from handlers.telegram.limits import LimitsMiddleware
from tests.servers.botapi import TEST_TOKEN
from tests.telegram import conftest as telegram_harness
from tests.telegram.conftest import BOT_USER, STAFF, STAFF_CHAT, Harness

# The handler-test fixtures of tests/telegram (the real dispatcher on a temporary database).
policy_engine = telegram_harness.policy_engine
telegram_config = telegram_harness.telegram_config
harness = telegram_harness.harness

STAFF_NAME = "Ann <b>&amp; Co"  # as the staff member typed it in Telegram
BIG_ID = 1000001
GROUPED = re.compile(r"1[\s\u00a0\u202f,.]000[\s\u00a0\u202f,.]001")


async def _press_as(h: Harness, user_id: int, first_name: str, data: str, lang: str) -> None:
    """A press in the staff chat by someone with a name of their own (the harness names everyone "U")."""
    await h._feed({"callback_query": {
        "id": f"cq{time.monotonic_ns()}", "chat_instance": "x", "data": data,
        "from": {"id": user_id, "is_bot": False, "first_name": first_name, "language_code": lang},
        "message": {"message_id": 1, "date": int(time.time()), "from": BOT_USER, "text": "…",
                    "chat": {"id": STAFF_CHAT, "type": "supergroup", "title": "Staff"}}}})


async def _verified_request(h: Harness, user_id: int = 5005) -> str:
    result = await h.services.requests.create(
        type=RequestType.DELETION, channel=Channel.TELEGRAM, lang="ru",
        requester=Requester(telegram_user_id=user_id, telegram_chat_id=user_id, telegram_name="Person",
                            email="p@example.com"),
        verified=VerificationMethod.EMAIL_CODE, actor="requester")
    await h.deliver()
    return result.request.id


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_a_stale_card_alert_shows_the_staff_name_as_typed(harness: Harness, lang: str) -> None:
    h = harness
    request_id = await _verified_request(h)
    await _press_as(h, STAFF, STAFF_NAME, f"st:approve:{request_id}", lang)
    await _press_as(h, STAFF, "Bob", f"st:approve:{request_id}", lang)  # the card was stale
    alert = h.session.alerts()[-1]
    text = str(alert.text)
    assert alert.show_alert and f"{STAFF_NAME} (tg:{STAFF})" in text, text
    assert "&lt;" not in text and "&amp;amp;" not in text
    assert ("одобрен" if lang == "ru" else "approved") in text and len(text) <= 200
    # The card itself is HTML: there the same name is escaped, and shown as typed by Telegram.
    card = h.session.sent(STAFF_CHAT)[-1]
    assert "Ann &lt;b&gt;&amp;amp; Co" in str(card.text)


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_already_decided_alert_shows_the_name_as_typed(harness: Harness, lang: str,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    h = harness
    request_id = await _verified_request(h)

    async def raced(request_id: str, *, by: str) -> Any:  # another staff member decided a moment earlier
        raise AlreadyDecided(request_id, "approved", "approved", f"staff:{STAFF_NAME} (tg:{STAFF + 1})",
                             datetime(2026, 3, 2, 10, 0, tzinfo=UTC))

    monkeypatch.setattr(h.services.requests, "approve", raced)
    await _press_as(h, STAFF, "Bob", f"st:approve:{request_id}", lang)
    text = str(h.session.alerts()[-1].text)
    assert f"{STAFF_NAME} (tg:{STAFF + 1})" in text and "&lt;" not in text and len(text) <= 200


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_card_and_handoff_post_show_the_telegram_and_handoff_ids_whole(
        harness: Harness, lang: str, monkeypatch: pytest.MonkeyPatch) -> None:
    h = harness
    monkeypatch.setattr(h.services.config.policy, "default_language", lang)  # the staff chat's language
    # A handoff table that has seen a million handoffs, so the next one is number 1000001.
    async with h.services.db.transaction() as conn:
        await conn.execute("INSERT INTO handoffs(id, channel, sender, lang, created_at) VALUES"
                           " (1000000, 'email', 'x', 'ru', '2026-01-01T00:00:00+00:00')")
    await _verified_request(h, user_id=BIG_ID)
    card = str(h.session.sent(STAFF_CHAT)[-1].text)
    assert f"<code>{BIG_ID}</code>" in card and not GROUPED.search(card), card
    await h.press(BIG_ID, "m:human", lang=lang)
    await h.send(BIG_ID, "Мне нужен сотрудник", lang=lang)
    await h.deliver()
    posted = h.session.sent(STAFF_CHAT)[-1]
    post = str(posted.text)
    assert re.search(f"[#№]{BIG_ID},", post) and f"(tg:{BIG_ID})" in post and not GROUPED.search(post), post
    # A staff reply to that post reaches the person (through the stored link, never the id in the text).
    await h.send(STAFF, "Здравствуйте!", chat_id=STAFF_CHAT, reply_to_message_id=h.session.message_id_of(posted),
                 reply_to_text=post)
    assert "Здравствуйте!" in h.last_text(BIG_ID)


def _variables(lang: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    current = ""
    for path in sorted((LOCALES_DIR / lang).glob("*.ftl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            match = re.match(r"^([a-zA-Z][\w-]*)\s*=", line)
            if match:
                current = match.group(1)
                found[current] = set()
            if current and not line.startswith("#"):
                found[current].update(re.findall(r"\{\s*\$([a-zA-Z_][\w-]*)", line))
    return found


@pytest.mark.parametrize("lang", LANGUAGES)
def test_no_message_groups_the_digits_of_an_integer(lang: str) -> None:
    translator = Translator()
    checked = 0
    for message_id, names in _variables(lang).items():
        if not names:
            continue
        text = translator(lang, message_id, **{name: BIG_ID for name in names})
        assert not GROUPED.search(text), (message_id, text)
        checked += str(BIG_ID) in text  # (a variable that only selects a variant prints nothing)
    assert checked > 50
    # Numbers still choose their plural forms.
    if lang == "ru":
        assert "(21 поле)" in translator("ru", "tg-corr-more", count=21)
        assert "(5 полей)" in translator("ru", "tg-corr-more", count=5)
        assert "(2 поля)" in translator("ru", "tg-corr-more", count=2)
    else:
        assert "(1 field)" in translator("en", "tg-corr-more", count=1)
        assert "(1000001 fields)" in translator("en", "tg-corr-more", count=BIG_ID)


# Messages that are only ever shown as plain text: callback alerts, the core's notifications and emails,
# command-line and console lines. Markup or an entity in them would be shown literally.
PLAIN_TELEGRAM_MESSAGES = ("tg-flood", "tg-forged", "tg-not-staff", "tg-stale-button", "tg-thanks-feedback",
                           "tg-code-resend-wait", "tg-code-resent", "tg-staff-done", "tg-staff-stale",
                           "tg-staff-already-decided", "tg-error", "tg-code-reminder", "tg-code-email-subject",
                           "tg-code-email-body", "tg-staff-handoff-hint", "tg-limit-id-prefix",
                           "tg-limit-section-id", "tg-invalid-token", "tg-console-no-button",
                           "tg-console-no-buttons", "tg-forget-stale")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_plain_text_messages_hold_no_markup(lang: str) -> None:
    translator = Translator()
    variables = _variables(lang)
    plain_files = {p.stem for p in (LOCALES_DIR / lang).glob("*.ftl")} - {"telegram"}
    ids = set(PLAIN_TELEGRAM_MESSAGES)
    for path in (LOCALES_DIR / lang).glob("*.ftl"):
        if path.stem in plain_files:
            ids |= {m.group(1) for m in re.finditer(r"(?m)^([a-zA-Z][\w-]*)\s*=", path.read_text(encoding="utf-8"))}
    for message_id in ids:
        text = translator(lang, message_id, **{name: "x" for name in variables.get(message_id, set())})
        assert not re.search(r"<[a-zA-Z/]|&[a-zA-Z#]+;", text), (message_id, text)
    # And a value carrying markup comes out as typed.
    alert = translator(lang, "tg-staff-stale", status="approved", by=STAFF_NAME, at="")
    assert STAFF_NAME in alert


async def test_the_console_prints_plain_text_as_sent_and_html_as_telegram_shows_it() -> None:
    out = io.StringIO()
    session = ConsoleSession(1, out)
    session.middleware(LimitsMiddleware())
    bot = Bot(TEST_TOKEN, session=session, default=DefaultBotProperties(parse_mode="HTML"))
    await bot.send_message(1, "<b>Card</b> for Ann &lt;b&gt;&amp;")  # HTML: tags off, entities decoded
    await bot.send_message(1, f"Request approved by {STAFF_NAME}", parse_mode=None)  # plain: as sent
    await bot.answer_callback_query("cq", text=f"Already approved by {STAFF_NAME}", show_alert=True)
    lines = out.getvalue().splitlines()
    assert lines == ["bot> Card for Ann <b>&", f"bot> Request approved by {STAFF_NAME}",
                     f"  [!] Already approved by {STAFF_NAME}"]
