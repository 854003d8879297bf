"""Everything the bot sends fits Telegram's limits (4096 UTF-16 units of shown text, 64-byte callback
data, 200-character callback answers), checked against test doubles that refuse what Telegram refuses.

- the loopback Bot API server itself refuses over-long texts, bad HTML, long callback data and alerts;
- end to end: a person's correction request with five very long corrections gets its summary *with*
  the Confirm button, and the staff card is accepted too, without the safety net having to cut;
- the safety net (LimitsMiddleware) over real HTTP: long HTML is cut between tags and entities,
  unparsable HTML falls back to plain text, long alerts are cut, and the log holds no text;
- the other long paths through the real dispatcher: staff cards with long everything, a relayed staff
  reply, a handoff post, a policy section, the lists;
- callback data: no factory can exceed 64 bytes, and a configured value that could is refused at start.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
import sqlite3
from pathlib import Path

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters.callback_data import CallbackData
from aiogram.methods import SendMessage
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.config import REPO_ROOT, load_config
from bot.handoffs import HandoffService
from bot.i18n import LANGUAGES, get_translator
from bot.requests.models import (
    Channel,
    CorrectionItem,
    PrivacyRequest,
    Requester,
    RequestStatus,
    RequestType,
    VerificationMethod,
)
from handlers.telegram import callbacks
from handlers.telegram.cards import render_card, render_summary
from handlers.telegram.channel import make_bot
from handlers.telegram.limits import CallbackCapacityError, check_callback_capacity, longest_request_id
from handlers.telegram.texts import Texts
from tests.servers.botapi import TEST_TOKEN, BotApiServer, Call
from tests.servers.botprocess import STAFF_CHAT as E2E_STAFF_CHAT
from tests.servers.botprocess import STAFF_USER, running
from tests.servers.smtp import SmtpServer
from tests.servers.telegram_rules import html_visible_text, utf16_units
from tests.telegram import conftest as telegram_harness
from tests.telegram.conftest import STAFF, STAFF_CHAT, USER, Harness

# The handler-test fixtures of tests/telegram (the real dispatcher on a temporary database).
policy_engine = telegram_harness.policy_engine
telegram_config = telegram_harness.telegram_config
harness = telegram_harness.harness

PERSON = 6001
STEP_WITHIN = 15.0
# Person-typed text that is long in every way: HTML-like characters, and emoji (two UTF-16 units each).
FILLER = "Поле <b>&amp; 😀 данные "


def _long(prefix: str, length: int) -> str:
    return (prefix + " " + FILLER * (length // len(FILLER) + 1))[:length]


def _shown(call: Call) -> str:
    return html_visible_text(call.text) if call.params.get("parse_mode") else call.text


# -- the test double refuses what Telegram refuses ----------------------------------------------------
async def test_the_loopback_server_refuses_what_telegram_refuses() -> None:
    async with BotApiServer() as api:
        bot = Bot(TEST_TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(api.base_url)))
        try:
            await bot.send_message(1, "x" * 4096)  # exactly the limit
            await bot.send_message(1, "&lt;" * 4096, parse_mode="HTML")  # 16384 characters, 4096 shown
            await bot.send_message(1, "<b>" + "y" * 4096 + "</b>", parse_mode="HTML")
            with pytest.raises(TelegramBadRequest, match="message is too long"):
                await bot.send_message(1, "x" * 4097)
            with pytest.raises(TelegramBadRequest, match="message is too long"):
                await bot.send_message(1, "😀" * 2049)  # 2049 characters, 4098 UTF-16 units
            with pytest.raises(TelegramBadRequest, match="message is too long"):
                await bot.send_message(1, "&amp;" * 4097, parse_mode="HTML")
            with pytest.raises(TelegramBadRequest, match="message is too long"):
                await bot.edit_message_text("x" * 4097, chat_id=1, message_id=5)
            for bad in ("<b>open", "a < b", "<script>x</script>", "<b><i>x</b></i>", "</b>"):
                with pytest.raises(TelegramBadRequest, match="can't parse entities"):
                    await bot.send_message(1, bad, parse_mode="HTML")
            await bot.send_message(1, "a < b & c", parse_mode=None)  # plain text: anything goes
            ok = InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="ok", callback_data="d" * 64)]])
            await bot.send_message(1, "buttons", reply_markup=ok)
            too_long = InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="no",
                                                                                   callback_data="й" * 33)]])
            with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
                await bot.send_message(1, "buttons", reply_markup=too_long)
            await bot.answer_callback_query("cq1", text="z" * 200, show_alert=True)
            with pytest.raises(TelegramBadRequest):
                await bot.answer_callback_query("cq2", text="z" * 201, show_alert=True)
        finally:
            await bot.session.close()
    assert len(api.refusals()) == 11


# -- end to end: the real process ---------------------------------------------------------------------
async def test_correction_with_five_very_long_corrections_shows_its_summary_and_staff_card(tmp_path: Path) -> None:
    limit = load_config(REPO_ROOT / "config.toml").telegram.max_message_length
    database = tmp_path / "bot.sqlite3"
    # The person types 25 messages in a minute; the flood limit is not what this test is about.
    env = {"PRIVACY_BOT__TELEGRAM__FLOOD_MESSAGES_PER_MINUTE": "100"}
    with SmtpServer() as smtp:
        async with BotApiServer() as api:
            async with running(api, smtp, database, env) as bot:
                mark = api.mark()
                api.send_text(PERSON, "/start")
                menu = await api.wait_for_message(PERSON, "Здравствуйте", after=mark, within=STEP_WITHIN)
                mark = api.mark()
                api.press(PERSON, menu, callbacks.MenuCb(action="correction").pack())
                prompt = await api.wait_for_message(PERSON, "Какое поле", after=mark, within=STEP_WITHIN)
                for n in range(1, 6):
                    mark = api.mark()
                    api.send_text(PERSON, _long(f"F{n}", limit))
                    echo = await api.wait_for_message(PERSON, "Что сейчас указано", after=mark, within=STEP_WITHIN)
                    assert f"«F{n} Поле &lt;b&gt;&amp;amp;" in echo.text  # shown as typed, capped
                    mark = api.mark()
                    api.send_text(PERSON, _long(f"C{n}", limit))
                    await api.wait_for_message(PERSON, "как должно быть", after=mark, within=STEP_WITHIN)
                    mark = api.mark()
                    api.send_text(PERSON, _long(f"W{n}", limit))
                    if n < 5:
                        prompt = await api.wait_for_message(PERSON, "Записал", after=mark, within=STEP_WITHIN)
                        mark = api.mark()
                        api.press(PERSON, prompt, prompt.button("Ещё одно поле")["callback_data"])
                        await api.wait_for_message(PERSON, "Какое поле", after=mark, within=STEP_WITHIN)
                await api.wait_for_message(PERSON, "адресу электронной почты", after=mark, within=STEP_WITHIN)
                mark = api.mark()
                api.send_text(PERSON, "person@example.com")
                await api.wait_for_message(PERSON, "шестизначный код", after=mark, within=STEP_WITHIN)
                mail = (await smtp.wait_for_async(1, STEP_WITHIN))[-1].message().get_body(preferencelist=("plain",))
                assert mail is not None
                code = re.search(r"\b(\d{6})\b", mail.get_content())
                assert code
                mark = api.mark()
                api.send_text(PERSON, code.group(1))
                summary = await api.wait_for_message(PERSON, "Проверьте ваш запрос", after=mark, within=STEP_WITHIN)
                # Accepted by the server (wait_for only returns accepted calls), with its Confirm button,
                # and with every correction and the address still in it: capped pieces, not a cut message.
                assert summary.result is not None and summary.button("Подтвердить")
                shown = _shown(summary)
                assert utf16_units(shown) <= 4096
                for n in range(1, 6):
                    assert f"• F{n} Поле <b>&amp;" in shown and f"«C{n} " in shown and f"«W{n} " in shown
                assert shown.count("…") == 15 and "person@example.com" in shown
                mark = api.mark()
                api.press(PERSON, summary, summary.button("Подтвердить")["callback_data"])
                card = await api.wait_for(lambda c: c.method == "sendMessage" and c.chat_id == E2E_STAFF_CHAT
                                          and "PR-" in c.text, after=mark, within=STEP_WITHIN)
                rid = re.search(r"PR-\d{4}-\d{4}", card.text)
                assert rid and card.button("Одобрить")
                card_shown = _shown(card)
                assert utf16_units(card_shown) <= 4096
                assert all(f"• F{n} " in card_shown for n in range(1, 6))
                assert f"privacy-bot requests show {rid.group(0)}" in card_shown  # where to read all of it
                await api.wait_for_message(PERSON, rid.group(0), after=mark, within=STEP_WITHIN)
                # Staff approve: the card is edited in place, still within the limit, with the decision.
                mark = api.mark()
                api.press(STAFF_USER, card, card.button("Одобрить")["callback_data"])
                edited = await api.wait_for(lambda c: c.method == "editMessageText" and c.chat_id == E2E_STAFF_CHAT,
                                            after=mark, within=STEP_WITHIN)
                assert f"tg:{STAFF_USER}" in _shown(edited) and utf16_units(_shown(edited)) <= 4096
            log = bot.log_path.read_text(errors="replace")
    # The pieces were capped where rendered: the safety net never had to cut a message.
    assert "cut to Telegram" not in log
    with sqlite3.connect(database) as conn:
        stored = conn.execute("SELECT corrections FROM requests WHERE id = ?", (rid.group(0),)).fetchone()[0]
    # What was stored is what the person typed (as far as the flow keeps it), not the shortened display.
    assert [item["wanted"] for item in json.loads(stored)] == [_long(f"W{n}", limit)[:500] for n in range(1, 6)]


# -- the safety net over real HTTP --------------------------------------------------------------------
async def test_the_safety_net_cuts_between_tags_and_entities_and_logs_no_text(
        caplog: pytest.LogCaptureFixture) -> None:
    secret = "secret-person-text"
    async with BotApiServer() as api:
        bot = make_bot(TEST_TOKEN, api.base_url)  # the production bot: HTML by default, LimitsMiddleware
        try:
            caplog.set_level(logging.WARNING, logger="handlers.telegram.limits")
            keyboard = InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="✅", callback_data="f:ok")]])
            long_html = "<b>" + secret + "</b>\n<blockquote>" + "&lt;😀&amp; " * 2000 + "</blockquote>"
            sent = await bot.send_message(1, long_html, reply_markup=keyboard)
            assert sent.reply_markup is not None  # the buttons stay
            call = api.calls_of("sendMessage")[-1]
            shown = html_visible_text(call.text)  # parses: no tag or entity was cut in half
            assert utf16_units(shown) <= 4096 and shown.startswith(secret) and shown.endswith("…")
            assert call.text.endswith("…</blockquote>")
            await bot.edit_message_text("<i>" + "x" * 5000 + "</i>", chat_id=1, message_id=sent.message_id)
            assert utf16_units(html_visible_text(api.calls_of("editMessageText")[-1].text)) <= 4096
            # Markup Telegram could not parse, and too long: sent as plain text.
            await bot.send_message(1, "<unknown>" + "y" * 5000)
            plain = api.calls_of("sendMessage")[-1]
            assert "parse_mode" not in plain.params and len(plain.text) <= 4096 and "<unknown>" not in plain.text
            await bot.send_message(1, "z" * 5000, parse_mode=None)
            assert len(api.calls_of("sendMessage")[-1].text) == 4096
            await bot.answer_callback_query("cq", text=secret + "a" * 300, show_alert=True)
            assert utf16_units(str(api.calls_of("answerCallbackQuery")[-1].params["text"])) == 200
            # A button whose data could not be sent is left out rather than losing the whole message.
            bad = InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="ok", callback_data="f:ok"),
                                                         InlineKeyboardButton(text="no", callback_data="x" * 65)]])
            await bot.send_message(1, "two buttons", reply_markup=bad)
            assert [b["text"] for b in api.calls_of("sendMessage")[-1].buttons] == ["ok"]
        finally:
            await bot.session.close()
    assert not api.refusals()
    warnings = [r.getMessage() for r in caplog.records if r.name == "handlers.telegram.limits"]
    assert len(warnings) >= 5 and not any(secret in w or "xxxxx" in w or "yyyy" in w for w in warnings)


def test_the_bot_and_telegram_agree_on_what_html_shows_and_cuts_fit() -> None:
    """The bot's own parser (limits.py) against the test double's, on random well-formed markup."""
    import random

    from handlers.telegram.limits import html_visible, truncate_html
    rng = random.Random(152)
    for _ in range(300):
        out: list[str] = []
        open_tags: list[str] = []
        for _ in range(rng.randint(1, 300)):
            roll = rng.random()
            if roll < 0.05:
                tag = rng.choice(("b", "i", "blockquote", "code"))
                out.append(f"<{tag}>")
                open_tags.append(tag)
            elif roll < 0.1 and open_tags:
                out.append(f"</{open_tags.pop()}>")
            else:
                out.append(rng.choice(("&amp;", "&lt;", "&#128512;", "x", "😀", " ", "& ", "y" * 40, "&gt;")))
        markup = "".join(out) + "".join(f"</{tag}>" for tag in reversed(open_tags))
        assert html_visible(markup) == html_visible_text(markup)
        for units in (20, 300, 4096):
            assert utf16_units(html_visible_text(truncate_html(markup, units))) <= units


# -- the other long paths, through the real dispatcher ------------------------------------------------
def _absurd(prefix: str) -> str:
    return prefix + " <&> " + "😀" * 3000 + "x" * 6000


async def _long_request(h: Harness, user_id: int = USER, *, verified: bool = True) -> str:
    result = await h.services.requests.create(
        type=RequestType.CORRECTION, channel=Channel.TELEGRAM, lang="ru",
        requester=Requester(telegram_user_id=user_id, telegram_chat_id=user_id,
                            telegram_name=_absurd("Name")[:100], email="p@example.com"),
        details=_absurd("Details"),
        corrections=tuple(CorrectionItem(_absurd(f"F{n}"), _absurd(f"C{n}"), _absurd(f"W{n}")) for n in range(7)),
        verified=VerificationMethod.EMAIL_CODE if verified else None, actor="requester")
    await h.deliver()
    return result.request.id


async def test_staff_card_with_long_details_corrections_reason_and_question(harness: Harness) -> None:
    h = harness
    request_id = await _long_request(h)
    card = h.session.sent(STAFF_CHAT)[-1]
    assert isinstance(card, SendMessage) and request_id in str(card.text)
    assert "✅ Одобрить" in h.last_buttons(STAFF_CHAT)
    assert "… и ещё 2" in str(card.text) and "privacy-bot requests show" in str(card.text)
    # Need info with a long question (CLI questions have no length limit), then reject with a long reason.
    staff_name = "Анна " + "😀" * 200
    await h.services.requests.need_info(request_id, by=f"staff:{staff_name} (tg:{STAFF})",
                                        question=_absurd("Question"))
    await h.deliver()
    await h.services.requests.reject(request_id, by=f"staff:{staff_name} (tg:{STAFF})", reason=_absurd("Reason"))
    await h.deliver()
    edits = [m for m in h.session.sent(STAFF_CHAT) if not isinstance(m, SendMessage)]
    assert edits and "Причина: Reason" in str(edits[-1].text) and "Вопрос: Question" in str(edits[-1].text)
    # The person's notices (plain text from the core) arrived too; the safety net cut them to the limit.
    person = [str(m.text) for m in h.session.sent(USER)]
    assert any("Question" in text for text in person) and any("Reason" in text for text in person)
    await h.send(STAFF, f"/request {request_id}", chat_id=STAFF_CHAT)
    assert request_id in h.last_text(STAFF_CHAT)
    # The stored request is untouched by what the card shows.
    stored = await h.services.requests.get(request_id)
    assert stored.details == _absurd("Details") and len(stored.corrections) == 7
    # (The harness fails the test if the recording session refused anything, as Telegram would have.)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_longest_card_and_summary_fit_in_either_language(lang: str) -> None:
    """Every piece at an absurd length, every optional line present: still within the limit."""
    t = Texts(get_translator(), lang)
    request = PrivacyRequest(
        id=longest_request_id("PR"), type=RequestType.CORRECTION, channel=Channel.TELEGRAM, lang=lang,
        status=RequestStatus.REJECTED, requester=Requester(
            telegram_user_id=2**62, telegram_chat_id=2**62, telegram_name=_absurd("N"), email=_absurd("e"),
            phone=_absurd("p")),
        verification_method=VerificationMethod.UNVERIFIED_PHONE, verified_at=None, details=_absurd("D"),
        corrections=tuple(CorrectionItem(_absurd("f"), _absurd("c"), _absurd("w")) for _ in range(9)),
        **_rest_of_request())
    card = render_card(t, request)
    assert utf16_units(html_visible_text(card)) <= 4096
    summary = render_summary(t, {"type": "correction", "details": _absurd("D"), "email": _absurd("e"),
                                 "phone": _absurd("p"),
                                 "corrections": [CorrectionItem(_absurd("f"), _absurd("c"), _absurd("w")).to_dict()
                                                 for _ in range(9)]})
    assert utf16_units(html_visible_text(summary)) <= 4096


def _rest_of_request() -> dict[str, object]:
    """The PrivacyRequest fields the test above does not set, at their longest."""
    from datetime import UTC, date, datetime
    values: dict[str, object] = {}
    for field in dataclasses.fields(PrivacyRequest):
        if field.name in {"id", "type", "channel", "lang", "status", "requester", "verification_method",
                          "verified_at", "details", "corrections"}:
            continue
        name = field.name
        if "reason" in name or "question" in name or name in ("decided_by", "completed_by", "thread_ref"):
            values[name] = _absurd(name)
        elif name.endswith("_at"):
            values[name] = datetime(2026, 1, 1, tzinfo=UTC)
        elif "due" in name or name.endswith("_date"):
            values[name] = date(2026, 1, 31)
        elif name == "flags":
            values[name] = {"phone_unverified": True}
        elif name == "duplicate_of":
            values[name] = longest_request_id("PR")
        else:
            values[name] = field.default if field.default is not dataclasses.MISSING else None
    return values


async def test_relayed_staff_reply_handoff_post_and_the_staff_are_told(harness: Harness,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    h = harness
    # Staff may type as much as Telegram lets them when the bot's own limit is raised to Telegram's.
    monkeypatch.setattr(h.services.config.telegram, "max_message_length", 4096)
    await h.press(USER, "m:human")
    original = await h.send(USER, "Помогите " + "😀" * 1900)
    await h.deliver()
    post = h.session.sent(STAFF_CHAT)[-1]
    assert isinstance(post, SendMessage) and str(post.text).endswith("Ответьте на это сообщение, чтобы ответить человеку в Telegram.")
    # A staff reply as long as Telegram lets anyone type (4096) is relayed under a header: it must be cut.
    reply = "Ответ <b>&" + "я" * 4086  # 4096 characters
    await h.send(STAFF, reply, chat_id=STAFF_CHAT, reply_to_message_id=h.session.message_id_of(post))
    relayed = h.session.sent(USER)[-1]
    assert isinstance(relayed, SendMessage) and relayed.reply_to_message_id == original
    shown = html_visible_text(str(relayed.text))
    assert "Ответ <b>&" in shown and shown.endswith("…") and utf16_units(shown) <= 4096
    assert "сокращённым" in h.last_text(STAFF_CHAT)
    # A handoff from elsewhere with a long sender and text keeps the reply hint at the end of its post.
    await HandoffService(h.services.db, h.services.config).create(
        channel="telegram", sender=_absurd("sender"), subject=_absurd("subject"), text=_absurd("text"),
        lang="ru", reason="human")
    await h.deliver()
    post = h.session.sent(STAFF_CHAT)[-1]
    assert utf16_units(str(post.text)) <= 4096 and "Ответьте на это сообщение" in str(post.text)


async def test_a_long_policy_section_and_answer_fit(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    h = harness
    engine = h.services.engine
    sections = engine.sections("ru")
    long_section = dataclasses.replace(sections[0], title=_absurd("Title"), text=_absurd("Text <i>"))
    monkeypatch.setattr(type(engine), "sections", lambda self, lang: [long_section, *sections[1:]])
    await h.press(USER, callbacks.SectionCb(section=long_section.id).pack())
    shown = html_visible_text(h.last_text(USER))
    assert "Text <i>" in shown and utf16_units(shown) <= 4096 and h.services.config.policy.url in shown
    assert "👤 Связаться с сотрудником" in h.last_buttons(USER)


async def test_lists_hold_what_fits_and_say_how_many_more(harness: Harness) -> None:
    h = harness
    for n in range(45):  # one person's requests over the years (each closed before the next)
        created = await h.services.requests.create(
            type=RequestType.ACCESS, channel=Channel.TELEGRAM, lang="ru",
            requester=Requester(telegram_user_id=USER, telegram_chat_id=USER, email=f"p{n}@example.com"),
            verified=VerificationMethod.EMAIL_CODE, actor="test")
        await h.services.requests.cancel(created.request.id, by="test")
    await h.send(USER, "/myrequests")
    text = h.last_text(USER)
    assert utf16_units(html_visible_text(text)) <= 4096
    shown = text.count("• ")
    assert 0 < shown <= 45 and (shown == 45 or f"… и ещё {45 - shown}." in text)


# -- callback data ------------------------------------------------------------------------------------
def test_every_callback_factory_is_checked_and_fits_with_the_longest_values() -> None:
    factories = {cls for cls in vars(callbacks).values()
                 if isinstance(cls, type) and issubclass(cls, CallbackData) and cls is not CallbackData}
    prefixes = {data.split(":", 1)[0] for data in callbacks.button_data(section_ids=("x",))}
    assert {cls.__prefix__ for cls in factories} == prefixes  # a new factory must be added to button_data
    config = load_config(REPO_ROOT / "config.toml")
    translator = get_translator()
    # The configured prefix and the real policy sections pass; the longest id they allow fits exactly.
    from bot.policy.loader import load_policy
    policy = load_policy(config.policy_directory)
    section_ids = [s.id for lang in LANGUAGES for s in policy.sections[lang]]
    check_callback_capacity(translator, "en", request_id_prefix=config.requests.id_prefix, section_ids=section_ids)
    widest = "P" * 27
    check_callback_capacity(translator, "en", request_id_prefix=widest, section_ids=["s" * 62])
    longest = max(len(d.encode()) for d in callbacks.button_data(request_id=longest_request_id(widest),
                                                                 section_ids=["s" * 62]))
    assert longest == 64


@pytest.mark.parametrize(("prefix", "section"), [
    ("P" * 28, "ok"), ("ПР" * 7, "ok"), ("P:R", "ok"), ("P<R", "ok"), ("P&R", "ok"), ("PR", "s" * 63)])
def test_a_value_that_could_overflow_is_refused_at_start_with_one_line(prefix: str, section: str) -> None:
    with pytest.raises(CallbackCapacityError) as refused:
        check_callback_capacity(get_translator(), "en", request_id_prefix=prefix, section_ids=["ok", section])
    message = str(refused.value)
    assert "\n" not in message and ("id_prefix" in message or "section id" in message)


def test_privacy_bot_run_refuses_a_long_prefix_with_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    from bot.cli import main
    for key in [k for k in __import__("os").environ if k.startswith("PRIVACY_BOT")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("PRIVACY_BOT__STORAGE__DATABASE", str(tmp_path / "bot.sqlite3"))
    monkeypatch.setenv("PRIVACY_BOT__REQUESTS__ID_PREFIX", "REQUEST-FOR-THE-PRIVACY-TEAM")  # 28 bytes
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO(""))
    code = main(["--config", str(REPO_ROOT / "config.toml"), "run"])
    err = capsys.readouterr().err.strip().splitlines()
    # Refused when the configuration is read (a prefix is 1 to 8 capital letters), naming the variable.
    assert code == 2 and len(err) == 1
    assert err[0].startswith("privacy-bot: config error: environment variable PRIVACY_BOT__REQUESTS__ID_PREFIX")
    assert "requests.id_prefix" in err[0]
