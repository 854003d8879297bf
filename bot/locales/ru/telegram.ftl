# Канал Telegram и консольный чат. Сообщения в HTML (режим разбора Telegram): без «<» в тексте.

tg-start = Здравствуйте, { $name }! Я помощник JetBit (jetbit.ru) по вопросам персональных данных.
    Отвечаю на вопросы о нашей политике конфиденциальности и принимаю запросы о ваших данных: удалить, исправить или сообщить, какие данные мы храним.
    Выберите действие ниже или просто напишите вопрос.
tg-help = Что я умею:
    • отвечать на вопросы о политике конфиденциальности — просто напишите вопрос;
    • показать политику по разделам;
    • принять запрос на удаление или исправление ваших данных либо на сведения о том, какие данные у нас есть;
    • передать ваше сообщение сотруднику.
    Команды: /start, /myrequests, /privacy, /forget, /language, /cancel.
tg-greeting = Здравствуйте! Спросите что угодно о том, как мы обращаемся с персональными данными, или выберите действие ниже.
tg-menu-ask = ❓ Вопрос о политике
tg-menu-browse = 📖 Политика по разделам
tg-menu-deletion = 🗑 Удалить мои данные
tg-menu-correction = ✏️ Исправить мои данные
tg-menu-access = 🔎 Какие мои данные у вас есть?
tg-menu-human = 👤 Связаться с сотрудником
tg-menu-mine = 📋 Мои запросы
tg-menu-language = 🌐 Язык
tg-language-choose = Выберите язык:
tg-language-set = Готово: буду говорить по-русски.
tg-ask-prompt = Напишите ваш вопрос о политике конфиденциальности.
tg-browse = Разделы политики:
tg-section = <b>{ $title }</b>

    { $text }

    Полный текст политики: { $url }
tg-answer = <b>{ $title }</b>

    <blockquote>{ $quote }</blockquote>

    Полный текст политики: { $url }
tg-btn-helped = 👍 Это помогло
tg-btn-human = 👤 Связаться с сотрудником
tg-thanks-feedback = Спасибо!
tg-abstain = Я не нашёл ответа на этот вопрос в нашей политике конфиденциальности. Могу передать ваш вопрос сотруднику.
tg-use-buttons = Пожалуйста, ответьте на вопрос выше, воспользуйтесь кнопками или отправьте /cancel.
tg-text-only = Я понимаю только текстовые сообщения.
tg-stale-button = Эта кнопка относится к прошлому шагу. Отправьте /start, чтобы начать заново.
tg-flood = Вы пишете слишком часто. Подождите минуту и попробуйте снова.
tg-too-long = Сообщение слишком длинное: не больше { $limit } символов, пожалуйста.
tg-forged = Это действие недоступно.
tg-not-staff = Здесь это могут делать только сотрудники, отвечающие за персональные данные.
tg-cancelled = Отменено.
tg-nothing-to-cancel = Отменять нечего.

# Запросы
tg-btn-confirm = ✅ Подтвердить
tg-btn-cancel = ✖️ Отменить
tg-btn-resend = 🔁 Прислать новый код
tg-btn-skip = Пропустить
tg-btn-more = ➕ Ещё одно поле
tg-btn-done = ✅ Это всё
tg-btn-email = Эл. почта
tg-btn-phone = Телефон
tg-btn-answer-info = ✍️ Ответить
tg-flow-intro-deletion = Вы хотите, чтобы мы удалили ваши персональные данные. Если удалить нужно только часть, опишите, что именно; иначе нажмите «Пропустить». Команда /cancel прерывает запрос на любом шаге.
tg-flow-intro-access = Вы хотите узнать, какие ваши персональные данные у нас есть. Если вас интересует что-то конкретное, опишите это; иначе нажмите «Пропустить». Команда /cancel прерывает запрос на любом шаге.
tg-flow-intro-correction = Вы хотите исправить свои персональные данные. Пройдёмся по ним по одному полю. Команда /cancel прерывает запрос на любом шаге.
tg-corr-field = Какое поле указано неверно (например, телефон, имя, почта)?
tg-corr-current = Что сейчас указано в поле «{ $field }»?
tg-corr-wanted = А как должно быть?
tg-corr-more = Записал ({ $count } { $count ->
        [one] поле
        [few] поля
       *[many] полей
    }). Нужно исправить ещё что-нибудь?
tg-contact-prompt = По какому адресу электронной почты или номеру телефона у нас хранятся ваши данные? Напишите его здесь.
tg-contact-invalid = Это не похоже на адрес почты или номер телефона. Попробуйте ещё раз.
tg-code-sent = Я отправил шестизначный код на { $email }. Введите его здесь, чтобы подтвердить, что адрес ваш. Код действует { $minutes } мин.
tg-code-resent = Новый код уже в пути.
tg-code-resend-wait = Новый код можно будет отправить через { $seconds } с.
tg-code-ok = Адрес подтверждён.
tg-code-wrong = Код неверный. { $left ->
        [one] Осталась { $left } попытка.
        [few] Осталось { $left } попытки.
       *[many] Осталось { $left } попыток.
    }
tg-code-expired = Срок действия кода истёк. Нажмите кнопку, чтобы получить новый.
tg-code-locked = Слишком много неверных попыток. Нажмите кнопку, чтобы получить новый код.
tg-code-reminder = Код подтверждения ждёт вас в почте (загляните и в папку «Спам»). Введите его в этом чате, чтобы завершить запрос, или отправьте /cancel.
tg-code-email-subject = Код подтверждения JetBit
tg-code-email-body = Ваш код подтверждения: { $code }

    Введите его в чате с ботом JetBit по персональным данным в Telegram. Код действует { $minutes } мин.
    Если вы не запрашивали код, просто проигнорируйте это письмо.
tg-summary-title = <b>Проверьте ваш запрос:</b>
tg-summary-type = Запрос: { $type }
tg-summary-details = Подробности: { $details }
tg-summary-correction = • { $field }: «{ $current }» → «{ $wanted }»
tg-summary-email = Почта: { $email } (подтверждена)
tg-summary-phone = Телефон: { $phone } (сотрудники проверят его сами)
tg-request-confirmed = Запрос отправлен. Номер и срок ответа придут следующим сообщением.
tg-request-created-phone = Ваш запрос { $id } зарегистрирован, ответим не позднее { $due }. Подтвердить номер телефона в этом чате нельзя, поэтому сотрудник свяжется с вами и убедится, что номер ваш.
tg-request-failed = К сожалению, не удалось зарегистрировать запрос. Попробуйте позже.
tg-too-many-open = У вас уже есть открытые запросы ({ $ids }). Пожалуйста, дождитесь ответа по ним.
tg-info-prompt = Запрос { $id }: сотрудник спрашивает: { $question }
    Напишите ответ.
tg-info-attached = Спасибо, ваш ответ добавлен к запросу { $id }.
tg-info-failed = К сожалению, ответ не удалось добавить: запрос его больше не ждёт.

# Связь с сотрудником
tg-handoff-prompt = Напишите сообщение, и я передам его сотрудникам. Ответ придёт в этот чат.
tg-handoff-sent = Ваше сообщение передано сотрудникам. Ответ придёт сюда.
tg-staff-reply-to-person = Ответ сотрудника JetBit:
    { $text }

# Мои запросы, /privacy, /forget
tg-mine-none = У вас нет запросов.
tg-mine-title = <b>Ваши запросы:</b>
tg-mine-item = • { $id }: { $type }, { $status }, срок — { $due }
tg-mine-more = … и ещё { $count }.
tg-privacy = <b>Что бот хранит о вас</b>
    • ваш идентификатор в Telegram, идентификатор чата и выбранный язык;
    • сообщения, которые вы передали сотрудникам ({ $handoffs }), — { $transcripts_days } дн.;
    • коды подтверждения почты — только в виде хеша и не дольше { $codes_days } дн.;
    • ваши запросы ({ $requests }): контакт, подробности и история — как требует закон; персональные данные закрытых запросов удаляются через { $closed_days } дн., остаётся только обезличенная запись о том, что запрос был выполнен.
    Команда /forget удаляет данные переписки.
tg-forget-done = Готово: данные переписки (сообщения сотрудникам, язык, состояние диалога, коды) удалены.
tg-forget-done-kept = Готово: данные переписки удалены. Ваши запросы { $ids } сохранены: закон обязывает нас хранить сведения о том, как они были выполнены. Персональные данные в них удаляются через { $closed_days } дн. после закрытия.

# Чат сотрудников
tg-staff-help = Команды чата сотрудников:
    /queue — открытые запросы по сроку
    /request ID — карточка запроса
    /overdue — просроченные запросы
    /stats — количество по состояниям
    Чтобы ответить человеку, ответьте на пересланное сообщение.
tg-staff-queue = <b>Открытые запросы ({ $count }):</b>
tg-staff-queue-empty = Открытых запросов нет.
tg-staff-overdue = <b>Просроченные запросы ({ $count }):</b>
tg-staff-overdue-empty = Просроченных запросов нет.
tg-staff-list-item = • { $id }: { $type }, { $status }, срок { $due }
tg-staff-list-more = … и ещё { $count }: privacy-bot requests list
tg-staff-stats = Открыто: { $open }, просрочено: { $overdue }.
tg-staff-request-usage = Использование: /request PR-2026-0001
tg-staff-not-found = Запрос { $id } не найден.
tg-staff-btn-approve = ✅ Одобрить
tg-staff-btn-reject = ⛔ Отклонить
tg-staff-btn-info = ❓ Нужны уточнения
tg-staff-btn-complete = ✔️ Выполнено (данные удалены/исправлены)
tg-staff-btn-cancel = ✖️ Отменить (личность не подтверждена)
tg-staff-btn-verify = ☎️ Телефон проверен
tg-staff-done = Готово.
tg-staff-done-id = Запрос { $id }: { $status }.
tg-staff-stale = Этот запрос уже в состоянии «{ $status }» (решение: { $by } { $at }).
tg-staff-already-decided = Решение уже принято: { $status }, { $by } { $at }.
tg-staff-action-failed = Не выполнено: { $error }
tg-staff-reject-prompt = Запрос { $id }: выберите причину или напишите свою (/cancel — отмена).
tg-staff-info-prompt = Запрос { $id }: напишите вопрос заявителю (/cancel — отмена).
tg-reject-preset-1 = Нам не удалось подтвердить вашу личность.
tg-reject-preset-2 = По указанным вами данным у нас нет персональных данных.
tg-reject-preset-3 = Закон обязывает нас хранить эти данные.
tg-staff-handoff-hint = Ответьте на это сообщение, чтобы ответить человеку в Telegram.
tg-staff-reply-sent = Отправлено.
tg-staff-reply-sent-shortened = Отправлено, но сокращённым: в сообщение Telegram помещается не больше { $limit } символов.
tg-staff-reply-blocked = Не доставлено: человек заблокировал бота.
tg-staff-reply-failed = Не доставлено: Telegram не принял сообщение.
tg-card-title = <b>{ $id }</b>: { $type }
tg-card-channel = Канал: { $channel }, язык: { $language }
tg-card-telegram = { $name } (tg { $user_id })
tg-card-requester = Заявитель: { $requester }
tg-card-verification = Проверка: { $method }{ $phone ->
        [1] (телефон НЕ проверен — проверьте сами)
       *[other] {""}
    }
tg-card-details = Подробности: { $details }
tg-card-correction = • { $field }: «{ $current }» → «{ $wanted }»
tg-card-due = Срок: { $due }
tg-card-status = Состояние: <b>{ $status }</b>
tg-card-decided = Решение: { $by }, { $at }
tg-card-reason = Причина: { $reason }
tg-card-question = Вопрос: { $question }
tg-card-duplicate = Дубликат запроса { $id }
tg-card-corrections-more = • … и ещё { $count }
tg-card-shortened = <i>Сокращено, чтобы поместиться в Telegram; полностью: privacy-bot requests show { $id }</i>

# Консольный чат
tg-console-intro = Консольный чат с ботом: пишите сообщения как в Telegram; чтобы нажать кнопку, введите её номер; /quit или Ctrl-D — выход.
tg-console-staff-intro = Консольный чат от имени сотрудника в чате сотрудников: /queue, /request ID, кнопки карточек — по номеру; /quit или Ctrl-D — выход.
tg-console-how-to-connect = Ни один канал не настроен, поэтому запускается консольный чат.
    Чтобы подключить Telegram: задайте PRIVACY_BOT_TELEGRAM_TOKEN, а в config.toml — [telegram] staff_chat_id и staff_user_ids (api_base — для собственного сервера Bot API).
    Чтобы подключить почту: [email] enabled = true, ключи IMAP/SMTP, PRIVACY_BOT_IMAP_PASSWORD и PRIVACY_BOT_SMTP_PASSWORD.
    Затем запустите: privacy-bot run

# Меню команд в клиенте Telegram
tg-cmd-start = Начало: что умеет бот
tg-cmd-myrequests = Мои запросы и их состояние
tg-cmd-privacy = Что бот хранит обо мне
tg-cmd-forget = Удалить данные переписки
tg-cmd-language = Сменить язык
tg-cmd-cancel = Отменить текущий шаг
tg-cmd-help = Справка
tg-cmd-queue = Открытые запросы по сроку
tg-cmd-overdue = Просроченные запросы
tg-cmd-stats = Количество по состояниям
tg-cmd-request = Карточка запроса: /request ID
tg-invalid-token = PRIVACY_BOT_TELEGRAM_TOKEN не похож на токен бота (он выглядит так: 123456:ABC-DEF...).
tg-limit-id-prefix = requests.id_prefix «{ $prefix }» не помещается в кнопки Telegram: в нём может быть не больше { $bytes } байт, без двоеточия, угловых скобок и амперсанда.
tg-limit-section-id = id раздела политики «{ $section }» не помещается в кнопку Telegram: не больше { $bytes } байт.
tg-error = Извините, у нас что-то пошло не так. Попробуйте, пожалуйста, чуть позже.
