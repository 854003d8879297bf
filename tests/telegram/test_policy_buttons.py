"""Section buttons after the policy changed: a button of a section an earlier policy had is stale (the person
gets the current list), one naming a section no policy had is forged (refused and audited). Sections and
answers show the version and effective date of the policy they come from."""

from __future__ import annotations

from bot.i18n import format_date
from handlers.telegram.callbacks import SectionCb
from tests.telegram.conftest import USER, Harness


async def test_a_button_of_a_section_the_policy_no_longer_has_is_stale_not_forged(harness: Harness) -> None:
    h = harness
    h.services.retired_section_ids.add("cookies")
    await h.press(USER, SectionCb(section="cookies").pack())
    alerts = h.session.alerts()
    assert len(alerts) == 1 and alerts[0].show_alert and "больше нет в политике" in str(alerts[0].text)
    buttons = h.last_buttons(USER)
    assert SectionCb(section="contact").pack() in buttons.values()
    assert await h.deps.repo.security_events() == []

    await h.press(USER, SectionCb(section="never-existed").pack())
    events = await h.deps.repo.security_events()
    assert [e["details"]["reason"] for e in events] == ["unknown_section"]


async def test_sections_and_answers_carry_the_policy_version_and_date(harness: Harness) -> None:
    h = harness
    engine = h.services.engine
    label = f"Версия политики {engine.policy_version}, действует с {format_date('ru', engine.effective_date)}"
    await h.press(USER, SectionCb(section="contact").pack())
    assert label in h.last_text(USER)
    await h.send(USER, "по какому телефону с вами связаться?")
    assert label in h.last_text(USER) and "+7 981 989-53-11" in h.last_text(USER)
