# Канал электронной почты (handlers/email). Темы и тексты писем, которые бот пишет сам.

email-default-subject = Ваше обращение в JetBit
