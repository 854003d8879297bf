# Общие строки. У каждой области свой файл: core.ftl (заявки, уведомления), telegram.ftl, email.ftl.
policy-link = Полный текст политики: { $url }
