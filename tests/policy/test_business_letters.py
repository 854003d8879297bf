"""Letters that explain their business first and ask without a question mark ("Подскажите, как будут
защищены данные...", "Please confirm how...") are privacy questions, not off-topic. Sentences are our
own, not from the curated examples or message sets."""

from __future__ import annotations

import pytest

from bot.policy import Intent, PolicyEngine


@pytest.mark.parametrize(("text", "lang", "section"), [
    ("Добрый день. Мы небольшая стоматология и хотим заказать у вас сайт с онлайн-записью. Подскажите, "
     "как будут защищены данные пациентов, которые они оставят в форме.", "ru", "protection"),
    ("Good morning. Our firm is about to sign a contract with your studio for an online shop. Please "
     "confirm how the personal data we send you is protected.", "en", "protection"),
])
def test_indirect_question_after_business_context(engine: PolicyEngine, text: str, lang: str,
                                                  section: str) -> None:
    result = engine.understand(text, lang=lang)
    assert result.intent == Intent.QUESTION
    ranked = [s.id for s in result.sections]
    assert result.intent.value == "question" and ranked and ranked[0] == section


def test_business_letter_without_a_privacy_question_stays_off_topic(engine: PolicyEngine) -> None:
    text = ("Добрый день. Мы хотим заказать у вас лендинг для выставки. "
            "Подскажите, сколько стоит такая работа и какие сроки.")
    assert engine.understand(text, lang="ru").intent == Intent.OUT_OF_SCOPE


def test_a_rambling_letter_is_answered_by_its_question(engine: PolicyEngine) -> None:
    story = ("Я давно хотела написать. Мы с мужем открыли небольшую пекарню. Сайт нам делали знакомые. "
             "Потом мы переехали в другой район. Клиентов стало больше. Летом мы наняли двух продавцов. "
             "Осенью начали возить торты по городу. ")
    letter = (f"Добрый день!\n\n{story}Подскажите, вы передаёте адреса клиентов курьерам, когда что-то "
              f"доставляете? {story}\n\nС уважением,\nОльга")
    result = engine.understand(letter)
    assert result.intent is Intent.QUESTION
    assert result.sections[0].id == "service-delivery"
