# Email channel (handlers/email). Subjects and bodies of the mail the bot writes itself.

email-default-subject = Your message to JetBit
