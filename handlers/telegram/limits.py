"""Telegram's size limits, kept by everything the bot sends.

Telegram refuses a message whose text is over 4096 UTF-16 code units once its HTML is parsed (tags
removed, entities decoded), callback data over 64 bytes, and a callback answer over 200 characters. A
refused summary leaves a person at a Confirm button they never saw, so:

- person-typed pieces are capped where they are rendered (``clip``; "…" marks the cut, the stored
  value is untouched), and messages built from several pieces are rendered smaller until they fit
  (``fit_message``), so the message keeps its structure and its buttons;
- ``LimitsMiddleware`` on the bot's session is the one safety net: no sendMessage, editMessageText or
  answerCallbackQuery over the limit leaves the process. It cuts HTML between tags and entities (never
  inside one) and closes what is open, or falls back to plain text, and logs a warning without the text;
- ``check_callback_capacity`` refuses at start a request id prefix or a policy section id that could
  make a button's data overflow.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from aiogram import Bot
from aiogram.client.default import Default
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.methods import (
    AnswerCallbackQuery,
    EditMessageReplyMarkup,
    EditMessageText,
    SendMessage,
    TelegramMethod,
)
from aiogram.methods.base import Response, TelegramType
from aiogram.types import InlineKeyboardMarkup

from bot.config import ConfigError
from bot.i18n import Translator

log = logging.getLogger(__name__)

MESSAGE_TEXT_UNITS = 4096  # UTF-16 code units of the text as shown (after HTML parsing)
CALLBACK_DATA_BYTES = 64
CALLBACK_ANSWER_UNITS = 200
ELLIPSIS = "…"
# The largest counter a request id can carry: SQLite integers are 64-bit (19 digits).
MAX_REQUEST_COUNTER_DIGITS = 19

# The scales at which a multi-piece message is tried: each piece's cap is multiplied by the scale. The
# last one fits the longest content in either language (tests/security/test_telegram_limits.py).
FIT_SCALES = (1.0, 0.85, 0.7, 0.55, 0.4, 0.25, 0.15)
MIN_PIECE_UNITS = 8

# Caps of the pieces people (and staff) type, where they are shown, at scale 1 (UTF-16 units, "…"
# included). The stored values are never cut by these.
CAP_NAME = 100  # a Telegram first and last name
CAP_EMAIL = 254  # the longest valid address
CAP_PHONE = 40
CAP_REQUEST_ID = 64  # an id typed after /request
CAP_DETAILS = 1500
CAP_FIELD = 200  # a correction: which field (the flow stores 200) ...
CAP_VALUE = 500  # ... and its current and wanted values (stored: 500 each)
CAP_ACTOR = 150  # "staff:Name (tg:ID)"
CAP_ALERT_ACTOR = 60  # the same in a 200-character alert
CAP_REASON = 1000
CAP_QUESTION = 1000
CAP_ERROR = 500
CAP_TITLE = 200  # a policy section's title
CAP_LONG_TEXT = 3900  # the one long piece of a message: a policy section, a quote, a relayed reply
CAP_ID_LIST = 1000  # "PR-2026-0001, PR-2026-0002, ..."
MAX_SHOWN_CORRECTIONS = 5  # the flow takes five; requests made elsewhere show five and a count


def utf16_units(text: str) -> int:
    """Length as Telegram counts it: characters outside the BMP (most emoji) count twice."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def clip(text: str, units: int) -> str:
    """``text`` cut to at most ``units`` UTF-16 units, "…" included, between characters."""
    if utf16_units(text) <= units:
        return text
    budget = max(units - 1, 0)
    used = 0
    for index, ch in enumerate(text):
        used += 2 if ord(ch) > 0xFFFF else 1
        if used > budget:
            return text[:index].rstrip() + ELLIPSIS
    return text  # not reached: the text did not fit


# -- HTML as Telegram parses it ---------------------------------------------------------------------
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[a-zA-Z-]+(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s>]*))?)*)\s*>")
_ENTITY = re.compile(r"&(?:#\d{1,7}|#[xX][0-9a-fA-F]{1,6}|lt|gt|amp|quot);")
_TELEGRAM_TAGS = frozenset({"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler",
                            "a", "tg-emoji", "code", "pre", "blockquote"})


class MarkupError(ValueError):
    """HTML that Telegram would refuse to parse."""


@dataclass(frozen=True)
class _Token:
    raw: str
    shown: str  # what it shows: "" for a tag, the character for an entity, the text itself
    tag: str = ""
    closing: bool = False


_SPECIAL = re.compile(r"[<&]")


def _tokens(markup: str) -> list[_Token]:
    tokens: list[_Token] = []
    stack: list[str] = []
    text_start = 0
    i = 0
    while (special := _SPECIAL.search(markup, i)) is not None:
        i = special.start()
        if markup[i] == "<":
            match = _TAG.match(markup, i)
            if match is None or match.group(2).lower() not in _TELEGRAM_TAGS:
                raise MarkupError(f"not a Telegram tag at offset {i}")
            if i > text_start:
                tokens.append(_Token(markup[text_start:i], markup[text_start:i]))
            name, closing = match.group(2).lower(), bool(match.group(1))
            if closing:
                if not stack or stack[-1] != name:
                    raise MarkupError(f"unmatched </{name}> at offset {i}")
                stack.pop()
            else:
                stack.append(name)
            tokens.append(_Token(match.group(0), "", name, closing))
            i = text_start = match.end()
        elif (entity := _ENTITY.match(markup, i)) is not None:
            if i > text_start:
                tokens.append(_Token(markup[text_start:i], markup[text_start:i]))
            tokens.append(_Token(entity.group(0), html.unescape(entity.group(0))))
            i = text_start = entity.end()
        else:
            i += 1  # a lone "&" is text (Telegram keeps it as it is)
    if len(markup) > text_start:
        tokens.append(_Token(markup[text_start:], markup[text_start:]))
    if stack:
        raise MarkupError(f"<{stack[-1]}> is never closed")
    return tokens


def html_visible(markup: str) -> str:
    """The text an HTML message shows; ``MarkupError`` when Telegram could not parse it."""
    return "".join(token.shown for token in _tokens(markup))


def visible_units(text: str, parse_mode: str | None = "HTML") -> int:
    if parse_mode and parse_mode.lower() == "html":
        return utf16_units(html_visible(text))
    return utf16_units(text)


def truncate_html(markup: str, units: int) -> str:
    """At most ``units`` shown, "…" included: cut between tags and entities, open tags closed."""
    tokens = _tokens(markup)
    if utf16_units("".join(token.shown for token in tokens)) <= units:
        return markup
    budget = units - 1
    out: list[str] = []
    stack: list[str] = []
    used = 0
    for token in tokens:
        if token.tag:
            out.append(token.raw)
            if token.closing:
                stack.pop()
            else:
                stack.append(token.tag)
            continue
        width = utf16_units(token.shown)
        if used + width <= budget:
            out.append(token.raw)
            used += width
            continue
        if token.raw == token.shown:  # plain text: keep what fits of it
            out.append(clip(token.raw, budget - used + 1)[:-1])
        break
    out.append(ELLIPSIS)
    out.extend(f"</{name}>" for name in reversed(stack))
    return "".join(out)


def html_to_plain(markup: str) -> str:
    """Best-effort plain text of markup Telegram could not parse."""
    return html.unescape(re.sub(r"<[^>]*>", "", markup))


def fit_text(text: str, parse_mode: str | None, units: int = MESSAGE_TEXT_UNITS) -> tuple[str, str | None]:
    """``text`` (and its parse mode) such that Telegram shows at most ``units``."""
    # Parsing only ever shortens a text, and no character is more than two units: most texts stop here.
    if 2 * len(text) <= units or utf16_units(text) <= units:
        return text, parse_mode
    if parse_mode and parse_mode.lower() == "html":
        try:
            if utf16_units(html_visible(text)) <= units:
                return text, parse_mode
            return truncate_html(text, units), parse_mode
        except MarkupError:
            return clip(html_to_plain(text), units), None
    return clip(text, units), parse_mode


# -- rendering pieces at a scale --------------------------------------------------------------------
class Pieces:
    """Caps person-typed pieces for one rendering of a message: ``piece(value, units)`` is the value cut
    to ``units`` times the current scale and HTML-escaped (``plain=True`` for plain-text messages)."""

    def __init__(self, scale: float = 1.0, *, plain: bool = False) -> None:
        self.scale = scale
        self.plain = plain
        self.cut = False

    def __call__(self, value: object, units: int) -> str:
        text = str(value)
        clipped = clip(text, max(MIN_PIECE_UNITS, int(units * self.scale)))
        self.cut = self.cut or clipped != text
        return clipped if self.plain else html.escape(clipped, quote=False)


def fit_message_cut(render: Callable[[Pieces], str], *, plain: bool = False,
                    units: int = MESSAGE_TEXT_UNITS) -> tuple[str, bool]:
    """Render with every piece at its full cap, then at smaller scales, until the message fits; the text,
    and whether a piece had to be cut."""
    text, pieces = "", Pieces()
    for scale in FIT_SCALES:
        pieces = Pieces(scale, plain=plain)
        text = render(pieces)
        if 2 * len(text) <= units or utf16_units(text) <= units:
            break  # the markup itself fits, so what it shows does (most messages stop here, unparsed)
        try:
            shown = visible_units(text, None if plain else "HTML")
        except MarkupError:  # not ours to fix here: LimitsMiddleware sends it as plain text
            shown = utf16_units(text)
        if shown <= units:
            break
    # (Even the smallest scale fits the catalogs' texts; LimitsMiddleware would still cut it.)
    return text, pieces.cut


def fit_message(render: Callable[[Pieces], str], *, plain: bool = False,
                units: int = MESSAGE_TEXT_UNITS) -> str:
    return fit_message_cut(render, plain=plain, units=units)[0]


def fit_lines(header: str, lines: Iterable[str], more: Callable[[int], str], *, not_listed: int = 0,
              units: int = MESSAGE_TEXT_UNITS) -> str:
    """``header`` and as many ``lines`` as fit, then ``more(how many were left out)`` when any were
    (``not_listed``: items the caller did not even render)."""
    items = list(lines)
    shown = [header]
    used = visible_units(header)
    for index, line in enumerate(items):
        left = len(items) - index - 1 + not_listed
        # Room for this line and for the "and N more" line that may have to follow it.
        tail = visible_units(more(left)) + 1 if left else 0
        width = visible_units(line) + 1
        if used + width + tail > units:
            shown.append(more(len(items) - index + not_listed))
            return "\n".join(shown)
        shown.append(line)
        used += width
    if not_listed:
        shown.append(more(not_listed))
    return "\n".join(shown)


# -- the safety net ---------------------------------------------------------------------------------
def _resolved_parse_mode(bot: Bot, value: object) -> str | None:
    if isinstance(value, Default):
        value = bot.default[value.name]
    return str(value) if value else None


def _fit_markup(markup: object) -> object:
    if not isinstance(markup, InlineKeyboardMarkup):
        return markup
    rows = [[button for button in row
             if button.callback_data is None or len(button.callback_data.encode()) <= CALLBACK_DATA_BYTES]
            for row in markup.inline_keyboard]
    if sum(map(len, rows)) == sum(map(len, markup.inline_keyboard)):
        return markup
    log.error("telegram: a button with callback data over %d bytes was left out", CALLBACK_DATA_BYTES)
    return InlineKeyboardMarkup(inline_keyboard=[row for row in rows if row])


def fit_method(bot: Bot, method: TelegramMethod[TelegramType]) -> TelegramMethod[TelegramType]:
    """The method as it may leave: within Telegram's limits (a copy when something had to change)."""
    changes: dict[str, object] = {}
    if isinstance(method, SendMessage | EditMessageText):
        parse_mode = _resolved_parse_mode(bot, method.parse_mode)
        original = method.text or ""
        text, fitted_mode = fit_text(original, parse_mode)
        if text != original:
            # Sizes only: the text is the person's or about them.
            log.warning("telegram: %s text of %d units cut to Telegram's %d (%s)", type(method).__name__,
                        utf16_units(original), MESSAGE_TEXT_UNITS,
                        "as HTML" if fitted_mode else "as plain text")
            changes["text"] = text
            if fitted_mode != parse_mode:
                changes.update(parse_mode=fitted_mode, entities=None)
    if isinstance(method, SendMessage | EditMessageText | EditMessageReplyMarkup):
        markup = _fit_markup(method.reply_markup)
        if markup is not method.reply_markup:
            changes["reply_markup"] = markup
    if isinstance(method, AnswerCallbackQuery) and method.text \
            and utf16_units(method.text) > CALLBACK_ANSWER_UNITS:
        log.warning("telegram: callback answer of %d units cut to %d", utf16_units(method.text),
                    CALLBACK_ANSWER_UNITS)
        changes["text"] = clip(method.text, CALLBACK_ANSWER_UNITS)
    return method.model_copy(update=changes) if changes else method


class LimitsMiddleware(BaseRequestMiddleware):
    """Nothing over Telegram's limits leaves: the one choke point every Bot API call passes through."""

    async def __call__(self, make_request: NextRequestMiddlewareType[TelegramType], bot: Bot,
                       method: TelegramMethod[TelegramType]) -> Response[TelegramType]:
        return await make_request(bot, fit_method(bot, method))


# -- callback data that cannot overflow -------------------------------------------------------------
class CallbackCapacityError(ConfigError):
    """A configured value could make a button's data longer than Telegram takes (one line, for people)."""


def longest_request_id(prefix: str) -> str:
    """The longest id ``prefix`` can produce (``PR-2026-0001``: a 4-digit year and a 64-bit counter)."""
    return f"{prefix}-9999-{'9' * MAX_REQUEST_COUNTER_DIGITS}"


def _fits(make: Callable[[], list[str]]) -> bool:
    try:
        return all(len(data.encode()) <= CALLBACK_DATA_BYTES for data in make())
    except ValueError:  # a value holds the factories' separator
        return False


def check_callback_capacity(translator: Translator, lang: str, *, request_id_prefix: str,
                            section_ids: Iterable[str]) -> None:
    """Pack every callback factory with the longest value that can reach it; refuse what could overflow.

    A request id is also printed in HTML messages, so its prefix may not hold "<", ">" or "&" either.
    """
    from handlers.telegram.callbacks import button_data

    longest = longest_request_id(request_id_prefix)
    if any(ch in request_id_prefix for ch in "<>&") or not _fits(lambda: button_data(request_id=longest)):
        room = _room(lambda prefix: button_data(request_id=longest_request_id(prefix)))
        raise CallbackCapacityError(translator(lang, "tg-limit-id-prefix", prefix=request_id_prefix, bytes=room))
    for section_id in section_ids:
        if not _fits(lambda section_id=section_id: button_data(section_ids=(section_id,))):  # type: ignore[misc]
            room = _room(lambda section: button_data(section_ids=(section,)))
            raise CallbackCapacityError(translator(lang, "tg-limit-section-id", section=section_id, bytes=room))


def _room(make: Callable[[str], list[str]]) -> int:
    """Bytes a value may take: what the longest button that carries it leaves (buttons that do not carry it
    are fixed, and checked by packing)."""
    empty, one = make(""), make("x")
    carrying = [data for data, with_one in zip(empty, one, strict=True) if data != with_one]
    return CALLBACK_DATA_BYTES - max(len(data.encode()) for data in carrying)
