# Работа владельца политики: `privacy-bot policy check`, `privacy-bot policy reload` и сообщение сотрудникам
# о новой версии политики (bot/policy/check.py, bot/policy/snapshot.py, bot/policy_reload.py).

policy-language-name = { $language ->
    [ru] русский
   *[en] английский
}

## policy check: по строке на каждую проблему, после имени файла. $id — идентификатор раздела.
policy-check-malformed = { $problem }
policy-check-duplicate-id = повторяется id «{ $id }» (он же в { $other })
policy-check-duplicate-order = повторяется order { $order } (он же в { $other })
policy-check-unknown-parent = parent «{ $parent }» не является id раздела
policy-check-missing-in-language = нет файла раздела «{ $id }» (он есть в { $other_file })
policy-check-order-mismatch = раздел «{ $id }» здесь следует за { $after }, а в { $other_lang ->
    [ru] русской
   *[en] английской
} версии за { $other_after } (порядок разделов в обоих языках должен совпадать)
policy-check-order-start = началом политики
policy-check-section-name = «{ $id }»
policy-check-parent-mismatch = у раздела «{ $id }» parent «{ $parent }», а в { $other_lang ->
    [ru] русской
   *[en] английской
} версии «{ $other_parent }»
policy-check-few-examples = у раздела «{ $id }» { $count ->
    [one] { $count } пример вопроса
    [few] { $count } примера вопросов
   *[other] { $count } примеров вопросов
} на { $language ->
    [ru] русском
   *[en] английском
}, нужно не меньше { $min } (его «examples» здесь и строки asked.jsonl)
policy-check-unknown-table = [{ $id }] не является id раздела
policy-check-older-labels = размечено, когда разделов { $ids } ещё не было: метки, которые теперь относятся к ним, движок откладывает, пока их не разметят заново (разметьте их в наборах для настройки и запустите scripts/export_asked.py).
policy-check-unknown-asked = { $count ->
    [one] строка { $lines } называет
   *[other] строки { $lines }{ $more ->
        [0] {""}
       *[other] {" "}и ещё { $more }
    } называют
} «{ $id }», такого id раздела нет
policy-check-summary = { $count ->
    [0] Проблем не найдено.
    [one] { $count } проблема.
    [few] { $count } проблемы.
   *[other] { $count } проблем.
}
policy-check-folder = Папка политики { $folder }: версия { $version }, действует с { $date }.
policy-check-changes = Изменения с версии, с которой бот работал последней ({ $old_version }, действует с { $old_date }):
policy-check-no-changes = Ни один раздел не изменился с версии, с которой бот работал последней ({ $old_version }, действует с { $old_date }).
policy-check-never-ran = Бот ещё не записал политику в { $database }: сравнивать не с чем.
policy-check-database-unreadable = Не удалось прочитать из { $database }, с какой версией бот работал последней: { $problem }

## Что изменилось: по строке на раздел (policy check, policy reload и сообщение сотрудникам).
policy-change-added = добавлен: { $id } ({ $title })
policy-change-removed = удалён: { $id } ({ $title })
policy-change-changed = изменён: { $id } ({ $title }), { $languages }
policy-change-renamed = вероятно, переименован: { $old } → { $new } ({ $title }; тексты совпадают на { $percent }%)
policy-change-none = ни один раздел не изменился (только имена файлов, их порядок или дата вступления в силу)

## В чат сотрудников, когда бот запущен или перезагрузил политику, с которой ещё не работал.
policy-staff-changed = Политика конфиденциальности, по которой отвечает бот, изменилась: версия { $version }, действует с { $date } (была { $old_version }, действовала с { $old_date }).

## policy reload
policy-reload-done = Бот (pid { $pid }) перезагрузил политику: версия { $version }, действует с { $date }.
policy-reload-was = До этого: версия { $old_version }.
policy-reload-failed = бот (pid { $pid }) не смог перезагрузить политику и по-прежнему отвечает по версии { $version }: { $error }
policy-reload-no-bot = бот не запущен: нет pid-файла { $path } (бот пишет его, пока работает с каналом Telegram или почты)
policy-reload-stale = бот не запущен: pid-файл { $path } устарел (процесс { $pid } завершился)
policy-reload-timeout = бот (pid { $pid }) не сообщил о перезагрузке за { $seconds } с; смотрите его журнал
policy-reload-stopped = бот (pid { $pid }) остановился, не сообщив о перезагрузке
policy-reload-waiting = Бот (pid { $pid }) получил просьбу перезагрузить политику из { $folder }…
