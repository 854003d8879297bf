"""What real Telegram refuses, for the test doubles of the Bot API (loopback server, recording session).

Written from the Bot API documentation and TDLib's HTML parser, independently of the bot's own limiter
(``handlers/telegram/limits.py``), so a test cannot pass because both share a mistake:

- message text: at most 4096 UTF-16 code units *after entity parsing* (tags removed, entities decoded),
  else 400 "Bad Request: message is too long"; empty after parsing: "message text is empty";
- parse_mode HTML: only Telegram's tags, properly nested and closed, else 400 "Bad Request: can't parse
  entities: ..."; "&" that starts no known entity is kept literally, as TDLib does;
- inline button callback data: 1-64 bytes, else 400 "Bad Request: BUTTON_DATA_INVALID";
- answerCallbackQuery text: at most 200 characters, else 400 "Bad Request: MESSAGE_TOO_LONG".
"""

from __future__ import annotations

import re
from typing import Any

MAX_TEXT_UNITS = 4096
MAX_CALLBACK_DATA_BYTES = 64
MAX_CALLBACK_ANSWER_UNITS = 200

# Tags of https://core.telegram.org/bots/api#html-style and the attributes they may carry.
_TAGS: dict[str, frozenset[str]] = {
    "b": frozenset(), "strong": frozenset(), "i": frozenset(), "em": frozenset(), "u": frozenset(),
    "ins": frozenset(), "s": frozenset(), "strike": frozenset(), "del": frozenset(),
    "span": frozenset({"class"}), "tg-spoiler": frozenset(), "a": frozenset({"href"}),
    "tg-emoji": frozenset({"emoji-id"}), "code": frozenset({"class"}), "pre": frozenset(),
    "blockquote": frozenset({"expandable"}),
}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY = re.compile(r"&(?:#(\d{1,7})|#[xX]([0-9a-fA-F]{1,6})|([a-zA-Z]+));")
_SPACE = " \t\r\n"


class TelegramRefusal(Exception):
    def __init__(self, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


def utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _cant_parse(detail: str) -> TelegramRefusal:
    return TelegramRefusal(f"Bad Request: can't parse entities: {detail}")


def html_visible_text(text: str) -> str:
    """The text Telegram shows for an HTML message; raises like Telegram on markup it cannot parse."""
    out: list[str] = []
    open_tags: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "&":
            match = _ENTITY.match(text, i)
            decoded = None
            if match:
                if match.group(1) or match.group(2):
                    code = int(match.group(1)) if match.group(1) else int(match.group(2), 16)
                    if 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF:
                        decoded = chr(code)
                else:
                    decoded = _NAMED_ENTITIES.get(match.group(3))
            if decoded is not None and match is not None:
                out.append(decoded)
                i = match.end()
            else:
                out.append(ch)  # not an entity: kept as it is
                i += 1
            continue
        if ch != "<":
            out.append(ch)
            i += 1
            continue
        begin = i
        i += 1
        if i < n and text[i] == "/":
            i += 1
            name_start = i
            while i < n and text[i] not in _SPACE and text[i] != ">":
                i += 1
            name = text[name_start:i].lower()
            while i < n and text[i] in _SPACE:
                i += 1
            if i >= n or text[i] != ">":
                raise _cant_parse(f"Unclosed end tag at byte offset {begin}")
            if not open_tags:
                raise _cant_parse(f"Unexpected end tag at byte offset {begin}")
            if name != open_tags[-1]:
                raise _cant_parse(f"Unmatched end tag at byte offset {begin}, expected \"</{open_tags[-1]}>\", "
                                  f"found \"</{name}>\"")
            open_tags.pop()
            i += 1
            continue
        name_start = i
        while i < n and text[i] not in _SPACE and text[i] not in ">/":
            i += 1
        if i >= n:
            raise _cant_parse(f"Unclosed start tag at byte offset {begin}")
        name = text[name_start:i].lower()
        if name not in _TAGS:
            raise _cant_parse(f"Unsupported start tag \"{name}\" at byte offset {begin}")
        while True:
            while i < n and text[i] in _SPACE:
                i += 1
            if i >= n:
                raise _cant_parse(f"Unclosed start tag at byte offset {begin}")
            if text[i] == ">":
                break
            attr_start = i
            while i < n and text[i] not in _SPACE and text[i] not in "=>":
                i += 1
            attribute = text[attr_start:i].lower()
            if not attribute or attribute not in _TAGS[name]:
                raise _cant_parse(f"Unsupported attribute \"{attribute}\" of the tag \"{name}\"")
            while i < n and text[i] in _SPACE:
                i += 1
            if i < n and text[i] == "=":
                i += 1
                while i < n and text[i] in _SPACE:
                    i += 1
                if i < n and text[i] in "\"'":
                    quote = text[i]
                    end = text.find(quote, i + 1)
                    if end < 0:
                        raise _cant_parse(f"Unclosed start tag at byte offset {begin}")
                    i = end + 1
                else:
                    while i < n and text[i] not in _SPACE and text[i] != ">":
                        i += 1
            elif attribute != "expandable":
                raise _cant_parse("Expected equal sign in declaration of an attribute of the tag")
        open_tags.append(name)
        i += 1  # the ">"
    if open_tags:
        raise _cant_parse(f"Can't find end tag corresponding to start tag \"{open_tags[-1]}\"")
    return "".join(out)


def visible_text(text: str, parse_mode: str | None) -> str:
    if not parse_mode:
        return text
    if parse_mode.lower() == "html":
        return html_visible_text(text)
    raise TelegramRefusal(f"Bad Request: unsupported parse_mode {parse_mode!r} in these tests")


def check_message_text(text: str, parse_mode: str | None) -> None:
    shown = visible_text(text, parse_mode)
    if not shown.strip():
        raise TelegramRefusal("Bad Request: message text is empty")
    if utf16_units(shown) > MAX_TEXT_UNITS:
        raise TelegramRefusal("Bad Request: message is too long")


def check_reply_markup(markup: Any) -> None:
    if not isinstance(markup, dict):
        return
    for row in markup.get("inline_keyboard", []) or []:
        for button in row:
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode("utf-8")) <= MAX_CALLBACK_DATA_BYTES:
                raise TelegramRefusal("Bad Request: BUTTON_DATA_INVALID")


def check_callback_answer(text: str | None) -> None:
    if text and utf16_units(text) > MAX_CALLBACK_ANSWER_UNITS:
        raise TelegramRefusal("Bad Request: MESSAGE_TOO_LONG")


def check_call(method: str, params: dict[str, Any]) -> None:
    """Raise ``TelegramRefusal`` for a call real Telegram would refuse (``params`` as sent over HTTP)."""
    name = method.lower()
    if name in ("sendmessage", "editmessagetext"):
        parse_mode = params.get("parse_mode")
        check_message_text(str(params.get("text", "")), str(parse_mode) if parse_mode else None)
    if name in ("sendmessage", "editmessagetext", "editmessagereplymarkup"):
        check_reply_markup(params.get("reply_markup"))
    if name == "answercallbackquery":
        text = params.get("text")
        check_callback_answer(str(text) if text is not None else None)
