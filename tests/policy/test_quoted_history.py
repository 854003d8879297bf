"""Quoted history is not the request: a thank-you written above our own earlier answer is thanks, and a
question above a quoted letter is judged by itself. Texts are our own, not from the message sets."""

from __future__ import annotations

import pytest

from bot.policy import Intent, PolicyEngine
from bot.policy.text import request_text

THANKS_ABOVE_QUOTE = [
    ("Благодарю, все понятно!\n\nМарина\n\nвт, 3 нояб. 2026 г. в 09:15, JetBit Support <support@jetbit.ru>:\n"
     "> Марина, здравствуйте! Запрос на удаление данных принят, срок ответа 10 рабочих дней.", "ru"),
    ("Thanks a lot, that answers it.\n\nTom\n\nOn Tue, 3 Nov 2026 at 09:15, JetBit Support "
     "<support@jetbit.ru> wrote:\n> Hello Tom, here is what our policy says about the data we hold.", "en"),
    ("Спасибо большое!\n\n-----Original Message-----\nFrom: support@jetbit.ru\nSent: Tuesday, November 3, "
     "2026 09:15\nSubject: Re: мои данные\nЗдравствуйте! Какие данные вы хотите исправить?", "ru"),
]


@pytest.mark.parametrize(("text", "lang"), THANKS_ABOVE_QUOTE)
def test_thanks_above_quoted_answer_is_a_greeting(engine: PolicyEngine, text: str, lang: str) -> None:
    result = engine.understand(text, lang=lang)
    assert result.intent == Intent.GREETING
    assert result.sections == []


def test_quoted_history_after_attribution_line_is_dropped() -> None:
    text = ("Do you pass my phone number to anyone?\n\nOn Mon, 2 Nov 2026 at 18:00, Anna <anna@example.org> "
            "wrote:\nplease delete everything you have on me")
    assert "delete" not in request_text(text)
    assert "phone number" in request_text(text)


def test_legal_footer_is_not_the_request() -> None:
    letter = ("Hello,\n\nPlease send the signed act by Friday.\n\nFinance team\nOmega Ltd\n\n"
              "This e-mail and any attachments are confidential and intended solely for the addressee.")
    assert "confidential" not in request_text(letter)
    russian = ("Добрый день!\n\nПришлите, пожалуйста, закрывающие документы.\n\n"
               "Информация в данном сообщении является конфиденциальной и предназначена только для адресата.")
    assert "конфиденциальн" not in request_text(russian)


def test_a_forwarded_letter_is_understood_by_its_own_words(engine: PolicyEngine) -> None:
    text = ("---------- Пересылаемое сообщение ---------\nОт: Инна Лебедева <inna@example.org>\n"
            "Дата: вт, 10 нояб. 2026 г. в 11:40\nТема: данные\nКому: info@jetbit.ru\n\n"
            "Добрый день. Пришлите, пожалуйста, список моих персональных данных, которые хранятся у вас.\n\nИнна")
    assert request_text(text).startswith("Добрый день. Пришлите")
    assert engine.understand(text, lang="ru").intent == Intent.ACCESS


def test_letter_salutation_is_dropped_but_an_english_ask_with_an_exclamation_mark_stays() -> None:
    assert request_text("Dear Data Protection Officer,\nPlease send me my data.") == "Please send me my data."
    assert request_text("Уважаемые коллеги!\nПрошу удалить мои данные.") == "Прошу удалить мои данные."
    text = "Hi, delete my data!\nI never asked for your newsletter."
    assert request_text(text).startswith("Hi, delete my data!")


@pytest.mark.parametrize(("text", "intent", "section"), [
    ("Hello,\n\nforwarding from our accountant, see below.\n\n> Please delete all my personal data from your "
     "records. Thanks, Jan\n\nBest,\nEva", Intent.DELETION, None),
    ("Добрый день!\n\nПересылаю вопрос нашего юриста ниже.\n\n> Передаёте ли вы персональные данные наших "
     "сотрудников третьим лицам?\n\nС уважением,\nОльга", Intent.QUESTION, "disclosure"),
])
def test_quoted_lines_the_writer_points_to_are_the_request(engine: PolicyEngine, text: str, intent: Intent,
                                                           section: str | None) -> None:
    result = engine.understand(text)
    assert result.intent is intent
    if section is not None:
        assert result.sections[0].id == section


def test_quoted_history_under_a_reply_header_stays_history() -> None:
    text = ("Thanks, see below for my answers.\n\nOn Mon, 2 Nov 2026 at 10:00, Support <support@jetbit.ru> wrote:\n"
            "> Please confirm that we may delete your data.")
    assert "delete" not in request_text(text)
