# Запросы о персональных данных: уведомления заявителям и сотрудникам, командная строка, акт уничтожения.

request-type = { $type ->
    [deletion] удаление персональных данных
    [correction] уточнение персональных данных
   *[access] доступ к персональным данным
}
request-status = { $status ->
    [awaiting_verification] ждёт подтверждения личности
    [pending_review] на рассмотрении
    [needs_info] нужны уточнения
    [approved] одобрен
    [rejected] отклонён
    [completed] выполнен
    [cancelled] отменён
   *[expired] закрыт без ответа
}

verification-method = { $method ->
    [channel] подтверждено самим каналом (сообщение пришло из этого аккаунта)
    [email_code] почта, подтверждена кодом
    [email_reply] почта, подтверждена ответом на письмо
    [staff] проверено сотрудником
    [unverified_phone] телефон, не проверен
   *[none] не подтверждено
}
request-channel = { $channel ->
    [telegram] Telegram
    [email] электронная почта
   *[manual] лично, по телефону или письмом
}

## Заявителю. $id номер запроса, $type вид запроса, $due / $date даты уже отформатированы.
request-created-subject = Ваш запрос { $id } зарегистрирован
request-created = Ваш запрос { $id } ({ $type_name }) зарегистрирован. По закону мы ответим не позднее { $due }.
request-duplicate-subject = Ваш запрос { $id } уже в работе
request-duplicate = У вас уже есть открытый запрос { $id } ({ $type_name }), мы добавили это обращение к нему. Ответ — не позднее { $due }.
request-approved-subject = Ваш запрос { $id } одобрен
request-approved = Ваш запрос { $id } ({ $type_name }) одобрен. Мы сообщим, как только он будет выполнен, — не позднее { $due }.
request-rejected-subject = Ваш запрос { $id } отклонён
request-rejected = Мы отклонили ваш запрос { $id } ({ $type_name }). Причина: { $reason }
request-needs-info-subject = Для запроса { $id } нужны уточнения
request-needs-info = Чтобы выполнить ваш запрос { $id }, нам нужны уточнения: { $question }
    Пожалуйста, ответьте на это сообщение.
request-info-received-subject = Мы получили ваш ответ по запросу { $id }
request-info-received = Спасибо, мы получили ваш ответ. Запрос { $id } снова у наших сотрудников.
request-completed-subject = Ваш запрос { $id } выполнен
request-completed = { $type ->
    [deletion] Ваш запрос { $id } выполнен: ваши персональные данные удалены.
    [correction] Ваш запрос { $id } выполнен: ваши персональные данные исправлены.
   *[access] Ваш запрос { $id } выполнен: сведения о ваших персональных данных направлены вам.
}
request-extended-subject = Срок ответа по запросу { $id } продлён
request-extended = Срок ответа по вашему запросу { $id } продлён до { $date }. Причина: { $reason }
request-cancelled-subject = Ваш запрос { $id } отменён
request-cancelled = Ваш запрос { $id } ({ $type_name }) отменён.
request-expired-subject = Ваш запрос { $id } закрыт
request-expired = Ваш запрос { $id } ({ $type_name }) закрыт: он не был подтверждён или мы не получили запрошенные уточнения. Вы можете подать новый запрос в любое время.

## Сотрудникам.
staff-request-created = Новый запрос { $id }: { $type_name }, способ поступления: { $channel_name }. Срок: { $due }.
staff-request-updated = Запрос { $id }: { $status_name } ({ $actor }).
staff-request-info = Запрос { $id }: заявитель ответил: { $text }
staff-request-flagged = Запрос { $id }: { $why ->
    [auth_failed] подтверждение пришло в письме, не прошедшем проверки отправителя (SPF/DKIM/DMARC), и не принято. Проверьте заявителя другим способом.
   *[other] { $why }
}
staff-request-extended = Запрос { $id }: срок продлён до { $date } ({ $actor }). Причина: { $reason }
staff-reminder-due = Напоминание: срок по запросу { $id } ({ $type_name }, { $status_name }) истекает { $due }.
staff-reminder-overdue = Просрочен запрос { $id } ({ $type_name }, { $status_name }): срок истёк { $due }.
staff-delivery-failed = Запрос { $id }: сообщение «{ $kind }» не доставлено через { $channel }. { $fallback ->
    [none] Другого подтверждённого канала у заявителя нет.
   *[other] Отправлено через { $fallback }.
}

## Командная строка сотрудников.
cli-error = ошибка: { $message }
cli-not-found = запрос { $id } не найден
cli-illegal-transition = запрос { $id } в статусе «{ $status_name }»: перевести его в статус «{ $target_name }» нельзя
cli-already-decided = по запросу { $id } уже принято решение: { $status_name }, { $by }, { $at }
cli-too-many-open = у заявителя уже { $count } открытых запросов (предел { $limit }): { $ids }
cli-missing-reason = { $what ->
    [question] нужно указать вопрос (--question)
   *[reason] нужно указать причину (--reason)
}
cli-cannot-extend = срок по запросу { $id } продлить нельзя: { $why }
cli-need-requester = укажите хотя бы одно из --email, --phone, --telegram-id
cli-bad-date = это не дата: { $value } (нужно ГГГГ-ММ-ДД)
cli-bad-datetime = это не дата и время: { $value } (нужен ISO 8601, например 2026-01-15T10:30:00+03:00)
cli-act-not-completed-deletion = запрос { $id } — не выполненный запрос на удаление: акта уничтожения нет
cli-unknown-choice = { $kind ->
    [categories] неизвестная категория персональных данных
   *[systems] неизвестная информационная система
} «{ $value }»; есть: { $known }
cli-destruction-required = запрос { $id } — удаление: укажите, что уничтожено, --categories ({ $categories }) и --systems ({ $systems })
cli-destruction-not-applicable = запрос { $id } — не удаление ({ $type_name }): --categories и --systems только для удаления
cli-allowed-now = { $count ->
    [0] действий больше нет: запрос закрыт
   *[other] сейчас можно: { $actions }
}
cli-show-actions = { $count ->
    [0] Действия: нет (запрос закрыт)
   *[other] Действия: { $actions }
}
cli-created = Создан { $id } ({ $status }), срок { $due }.
cli-duplicate = Привязан к открытому запросу { $id } (повтор), срок { $due }.
cli-done = { $id }: { $status }
cli-extended = { $id }: срок продлён до { $date }
cli-empty = Запросов нет.
cli-table-header = НОМЕР | ВИД | КАНАЛ | СТАТУС | ПОЛУЧЕН | СРОК | РЕШЕНИЕ
cli-show-field = { $field ->
    [id] Номер
    [type] Вид
    [channel] Канал
    [lang] Язык
    [status] Статус
    [identity-telegram] Telegram
    [identity-email] Почта
    [identity-phone] Телефон
    [verification] Проверка
    [verified_at] Подтверждён
    [received_at] Получен
    [decided_at] Решение принято
    [completed_at] Выполнен
    [closed_at] Закрыт
    [redacted_at] Обезличен
    [due_date] Срок
    [extension_reason] Причина продления
    [decided_by] Решение принял
    [decision_reason] Причина решения
    [info_question] Вопрос заявителю
    [duplicate_of] Повтор запроса
    [details] Подробности
    [correction] Исправление
    [flags] Отметки
    [destroyed] Уничтожено (категории; системы)
   *[other] { $field }
}: { $value }
cli-arg-invalid-choice = { $argument }: нет такого варианта «{ $value }» (есть: { $known })
cli-arg-required = не хватает аргументов: { $argument }
cli-arg-unrecognized = непонятные аргументы: { $value }
cli-arg-expected-one = { $argument }: нужно одно значение
cli-arg-invalid-value = { $argument }: неверное значение «{ $value }»
cli-config-error = ошибка в настройках: { $problem }
cli-show-events = События:
cli-show-deliveries = Сообщения:
cli-retention-done = Хранение данных: обезличено запросов — { $redacted }, удалено текстов сообщений — { $bodies }, отправленных сообщений — { $outbox }, прочих записей — { $other }.

## Акт об уничтожении (приказ Роскомнадзора № 179).
act-title = АКТ ОБ УНИЧТОЖЕНИИ ПЕРСОНАЛЬНЫХ ДАННЫХ № { $id }
act-body = Оператор: { $operator }
    Субъект персональных данных: { $subject }
    Категории уничтоженных персональных данных: { $categories }
    Информационные системы, в которых уничтожены персональные данные: { $systems }
    Способ уничтожения: { $method }
    Причина уничтожения: требование субъекта персональных данных (статья 21 Федерального закона № 152-ФЗ), запрос { $id } от { $received } (способ поступления: { $channel_name })
    Что просил удалить заявитель: { $details }
    Дата уничтожения: { $completed } ({ $zone })
    Решение принял: { $decided_by }
    Уничтожение выполнил (ответственный): { $completed_by }
act-events-title = Выгрузка из журнала регистрации событий по запросу { $id } (время: { $zone }):
act-event-line = { $at } | { $event } | { $actor } | { $details }
act-signatures = Уничтожение выполнил: { $completed_by } ____________ (подпись)
    Ответственный за организацию обработки персональных данных: ____________ / ____________ /
    Дата: ____________
act-zone = { $moscow ->
    [yes] московское время
   *[other] { $zone }
}
act-unknown = не указано

## Обучение у сотрудников (bot/learning.py, privacy-bot examples). $language — язык вопроса.
learning-staff = Научите бота: вопрос { $id } ({ $language }, { $channel }) { $reason ->
        [abstained] остался без ответа.
       *[unhelpful] получил ответ, но человек отметил, что ответ не помог.
    }
    «{ $text }»
    Предложенные разделы: { $offered }
    privacy-bot examples review --id { $id } --section ID --by ИМЯ (или --not-in-policy)
learning-cli-question = Вопрос { $id } ({ $language }, { $channel }, { $reason ->
        [abstained] без ответа
       *[unhelpful] «не помогло»
    }, задан { $asked } { $asked ->
        [one] раз
        [few] раза
       *[other] раз
    }, { $created }):
learning-cli-offered = Предложено: { $offered }
learning-cli-offered-none = Предложено: ни одного раздела.
learning-cli-sections = Разделы (* — предложенные):
learning-cli-prompt = Номер раздела, n — в политике этого нет, s — пропустить, q — выйти:
learning-cli-bad-choice = Такого варианта нет: { $choice }
learning-cli-learnt = Вопрос { $id }: выучено, { $section }.
learning-cli-learnt-none = Вопрос { $id }: выучено, в политике ответа нет.
learning-cli-skipped = Вопрос { $id }: пропущен.
learning-cli-empty = Вопросов, ждущих раздела, нет.
learning-cli-summary = Решено: { $decided }, пропущено: { $skipped }, ещё ждут: { $left }.
learning-cli-not-found = вопрос { $id } не найден
learning-cli-already = по вопросу { $id } уже решил { $by } ({ $at })
learning-cli-unknown-section = в политике ({ $language }) нет раздела { $section } (privacy-bot policy list)
learning-cli-need-choice = вместе с --id укажите --section ID или --not-in-policy
learning-cli-need-id = --section и --not-in-policy указываются вместе с --id
learning-cli-exported = { $language }: { $path } (примеров: { $count }, добавлено или изменено: { $changed })
learning-cli-export-empty = Выученных примеров пока нет.
learning-cli-example = { $language } | { $section } | { $text }
learning-cli-not-in-policy = (в политике нет)

## Резервные копии и восстановление (bot/backup.py, privacy-bot backup / restore)
backup-done = Копия { $path }: проверена, запросов: { $requests }, событий журнала: { $events }.
backup-rotated = Удалено старых копий: { $count } (хранятся { $keep } последних).
backup-missing = { $path }: нет такого файла
backup-is-folder = { $path }: это папка, а не файл базы данных
backup-unusable = база данных { $path }: { $problem }
backup-not-ours = { $path }: это не база данных privacy-bot (в ней нет таблицы schema_migrations)
backup-damaged = { $path }: файл повреждён (проверка целостности: { $problem })
backup-exists = { $path }: уже существует; ничего не перезаписано
backup-cannot-write = не удаётся записать копию в { $path }: { $problem }
backup-no-folder = не удаётся записать копию в { $path }: нет такой папки
backup-counts-differ = { $path }: в копии не то, что было в базе в момент копирования; копия удалена
restore-newer = { $path }: записана более новой версией privacy-bot (версии схемы { $versions } этой версии неизвестны); восстанавливайте её той версией
restore-running = бот работает с базой { $database } (pid { $pid }): сначала остановите его, затем восстанавливайте
restore-in-use = база { $database } открыта другим процессом: сначала остановите его, затем восстанавливайте
restore-done = База { $database } восстановлена из { $path }: запросов: { $requests }, событий журнала: { $events }.
restore-replaced = Заменённая база сохранена как { $path }.
restore-older = Копия сделана более ранней версией: миграций при следующем запуске: { $count } (перед ними база будет скопирована в папку копий).
db-newer-version = база данных { $database }: записана более новой версией privacy-bot (версии схемы { $versions } этой версии неизвестны): запустите ту версию или восстановите копию, сделанную до обновления (privacy-bot restore)
db-upgrade-backup-failed = база данных { $database }: не обновлена, потому что не удалось сделать копию перед обновлением: { $reason }
