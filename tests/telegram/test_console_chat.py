"""The console chat in process (fast): button numbers, the two views, card edits printed once.

Two consoles on one database, as ``privacy-bot run`` and ``privacy-bot chat --as-staff`` would be; each
delivers only what its view shows (its own outbox senders), the rest waits for the other.
"""

from __future__ import annotations

import io
import re

from bot.outbox.worker import OutboxWorker
from bot.requests.models import RequestStatus
from bot.services import Services
from bot.verification import CODE_KIND, CodeMail
from handlers.telegram.console import CONSOLE_USER_ID, ConsoleChat
from tests.telegram.conftest import Harness


class View:
    def __init__(self, services: Services, *, as_staff: bool = False) -> None:
        self.out = io.StringIO()
        self.chat = ConsoleChat(services, as_staff=as_staff, out=self.out)
        self.services = services
        self.read = 0

    async def type(self, line: str) -> str:
        """Type a line; what the console printed for it (after its outbox settled)."""
        await self.chat.feed_line(line)
        await self.deliver()
        return self.new()

    def new(self) -> str:
        text = self.out.getvalue()[self.read:]
        self.read = len(self.out.getvalue())
        return text

    async def deliver(self) -> int:
        """What this console's own worker delivers (its view only)."""
        worker = OutboxWorker(self.services.db, {s.channel: s for s in self.chat.senders()}, self.services.config,
                              repository=self.services.outbox,
                              fillers={CODE_KIND: CodeMail(self.chat.deps.codes, self.services.translator)})
        total = 0
        while handled := await worker.deliver_due():
            total += handled
        return total


def number_of(printed: str, label: str) -> str:
    found = re.findall(r"\[(\d+)\] " + re.escape(label), printed)
    assert found, f"no button {label!r} in: {printed}"
    return str(found[-1])


async def _to_summary(person: View) -> str:
    printed = await person.type("удалите мои данные")
    await person.type(number_of(printed, "Пропустить"))
    return await person.type("+7 900 000-00-00")  # a phone: the summary comes at once


async def test_a_number_not_on_screen_is_refused_never_pressed_nor_taken_as_text(harness: Harness) -> None:
    person = View(harness.services)
    summary = await _to_summary(person)
    confirm, cancel = number_of(summary, "✅ Подтвердить"), number_of(summary, "✖️ Отменить")

    for stray in ("99", "0", "40"):  # never printed, or not as a button
        refused = await person.type(stray)
        assert f"[{stray}] на экране нет" in refused and "bot>" not in refused
        assert f"[{confirm}] ✅ Подтвердить, [{cancel}] ✖️ Отменить" in refused  # what is on screen
    # Text at this step gets a reply with a Cancel of its own, under a new number: the Confirm shown
    # above keeps its number, so typing it still confirms (it cancelled the request before).
    reply = await person.type("hello")
    assert number_of(reply, "✖️ Отменить") not in (confirm, cancel)
    created = await person.type(confirm)
    assert re.search(r"PR-\d{4}-\d{4}", created), created
    requests = await harness.services.requests.for_telegram_user(CONSOLE_USER_ID)
    assert [r.status for r in requests] == [RequestStatus.AWAITING_VERIFICATION]
    # The summary's buttons are gone: its numbers are stale now and refused, not pressed again.
    again = await person.type(confirm)
    assert f"[{confirm}] на экране нет" in again
    assert len(await harness.services.requests.for_telegram_user(CONSOLE_USER_ID)) == 1
    # A long number is text (a code, a phone), and a backslash sends a short one as text.
    assert "на экране нет" not in await person.type("123456")
    assert "на экране нет" not in await person.type("\\5")


async def test_each_view_shows_its_own_side_and_a_card_edit_is_printed_once(harness: Harness) -> None:
    person, staff = View(harness.services), View(harness.services, as_staff=True)
    await person.chat.feed_line("/start")
    menu = person.new()
    await person.type(number_of(menu, "👤 Связаться с сотрудником"))
    assert "передано сотрудникам" in await person.type("Помогите, пожалуйста")
    assert "Помогите, пожалуйста" not in person.out.getvalue()  # the handoff post is not the person's to see
    summary = await _to_summary(person)
    await person.type(number_of(summary, "✅ Подтвердить"))
    [request] = await harness.services.requests.for_telegram_user(CONSOLE_USER_ID)

    # The staff console posts what waited for it: the handoff and the card.
    assert await staff.deliver() >= 2
    posted = staff.new()
    assert "Помогите, пожалуйста" in posted and f"{request.id}:" in posted
    pressed = await staff.type(number_of(posted, "☎️ Телефон проверен"))
    assert pressed.count("bot (edited)>") == 1, pressed  # the handler's edit; the outbox's changes nothing
    approve = await staff.type(number_of(pressed, "✅ Одобрить"))
    assert approve.count("bot (edited)>") == 1, approve
    assert (await harness.services.requests.get(request.id)).status is RequestStatus.APPROVED

    # The person's console shows the staff decision when its worker runs (it waited in the outbox).
    assert "одобрен" not in person.new()
    assert await person.deliver() >= 1
    assert "одобрен" in person.new()
