# The Telegram channel and the console chat. Messages are HTML (Telegram's parse mode): no raw "<".

tg-start = { $has_name ->
        [yes] Hello, { $name }!
       *[no] Hello!
    } I am the privacy assistant of JetBit (jetbit.ru).
    I answer questions about our privacy policy and accept requests about your personal data: deletion, correction, or what data we hold about you.
    Choose below or just type your question.
tg-help = What I can do:
    • answer questions about the privacy policy: just type your question;
    • show the policy section by section;
    • accept a request to delete or correct your data, or to tell you what data we hold;
    • pass your message to a person.
    Commands: /start, /myrequests, /privacy, /forget, /language, /cancel.
tg-greeting = Hello! Ask me anything about how we handle personal data, or choose below.
tg-menu-ask = ❓ Ask about the policy
tg-menu-browse = 📖 Browse the policy
tg-menu-deletion = 🗑 Delete my data
tg-menu-correction = ✏️ Correct my data
tg-menu-access = 🔎 What data do you hold about me?
tg-menu-human = 👤 Talk to a person
tg-menu-mine = 📋 My requests
tg-menu-language = 🌐 Language
tg-language-choose = Choose your language:
tg-language-set = Done: I will speak English.
tg-ask-prompt = Type your question about the privacy policy.
tg-section-gone = This section is no longer in the policy: it has been updated. Here are its sections now.
tg-browse = The policy sections:
tg-section = <b>{ $title }</b>

    { $text }

    Full policy: { $url }
    <i>Policy version { $version }, effective { $date }</i>
tg-answer = <b>{ $title }</b>

    <blockquote>{ $quote }</blockquote>

    Full policy: { $url }
    <i>Policy version { $version }, effective { $date }</i>
tg-btn-helped = 👍 This helped
tg-btn-human = 👤 Talk to a person
tg-thanks-feedback = Thank you!
tg-not-in-policy = Our privacy policy does not say anything about this. I can pass your question to a person.
tg-abstain = I could not find the answer to that in our privacy policy. I can pass your question to a person.
tg-btn-unhelpful = 👎 Did not help
tg-unhelpful-sent = Thank you. I have passed your question to our team so that I learn to answer it (without your name, email or phone). To talk to a person, press the button.
tg-unhelpful-stale = I no longer have the question this answer was for. Please ask it again.
tg-use-buttons = Please answer the question above, use the buttons, or type /cancel.
tg-text-only = I understand text messages only.
tg-stale-button = This button belongs to an earlier step. Type /start to begin again.
tg-flood = You are writing too fast, so I am skipping messages. Please write again in { $seconds } { $seconds ->
    [one] second
   *[other] seconds
}.
tg-too-long = The message is too long: at most { $limit } characters, please.
tg-forged = This action is not available.
tg-not-staff = Only the privacy team can do this here.
tg-cancelled = Cancelled.
tg-nothing-to-cancel = There is nothing to cancel.

# Request flows
tg-btn-confirm = ✅ Confirm
tg-btn-cancel = ✖️ Cancel
tg-btn-resend = 🔁 Send a new code
tg-btn-skip = Skip
tg-btn-more = ➕ Another field
tg-btn-done = ✅ That is all
tg-btn-email = Email
tg-btn-phone = Phone
tg-btn-answer-info = ✍️ Answer
tg-flow-intro-deletion = You want us to delete your personal data. If only some of it should be deleted, describe what; otherwise press "Skip". /cancel stops at any step.
tg-flow-intro-access = You want to know what personal data we hold about you. If you are interested in something specific, describe it; otherwise press "Skip". /cancel stops at any step.
tg-flow-intro-correction = You want us to correct your personal data. We will go through it one field at a time. /cancel stops at any step.
tg-corr-field = Which field is wrong (e.g. phone, name, email)?
tg-corr-current = What does "{ $field }" say now?
tg-corr-wanted = And what should it say?
tg-corr-more = Noted ({ $count } { $count ->
        [one] field
       *[other] fields
    }). Is there another field to correct?
tg-contact-prompt = Under which email address or phone number do we hold your data? Type it here.
tg-contact-invalid = That does not look like an email address or a phone number. Please try again.
tg-code-sent = I have sent a 6-digit code to { $email }. Type it here to prove the address is yours. The code is valid for { $minutes ->
        [one] { $minutes } minute
       *[other] { $minutes } minutes
    }.
tg-flow-duplicate = You already have an open request of this kind: { $id } ({ $type }, { $status }, due { $due }). A new one is not needed: I will tell you here about each decision on it. /myrequests lists your requests.
tg-contact-from-message = I will use the address from your message: { $email }.
tg-contact-recent = { $email } was confirmed with a code a few minutes ago, so no new code is needed.
tg-code-again = Now, the code: type the 6-digit code I sent to { $email }, or press "Send a new code".
tg-code-resent = A new code is on its way.
tg-code-resend-wait = A new code can be sent in { $seconds } s.
tg-code-ok = The address is confirmed.
tg-code-wrong = That code is not right. { $left ->
        [one] One attempt left.
       *[other] { $left } attempts left.
    }
tg-code-expired = The code has expired. Press the button to get a new one.
tg-code-missing = No code has been sent to this address yet. Press "Resend" when the pause is over, then type the code from that mail.
tg-code-locked = Too many wrong attempts. Press the button to get a new code.
tg-code-reminder = Your confirmation code is waiting in your mailbox (check the spam folder too). Type it in this chat to finish your request, or type /cancel.
tg-code-email-subject = Your JetBit confirmation code
tg-code-email-body = Your confirmation code: { $code }

    Type it in the chat with the JetBit privacy bot in Telegram. The code is valid for { $minutes ->
        [one] { $minutes } minute
       *[other] { $minutes } minutes
    }.
    If you did not ask for it, ignore this email: nothing will happen.
tg-summary-title = <b>Please check your request:</b>
tg-summary-type = Request: { $type }
tg-summary-details = Details: { $details }
tg-summary-correction = • { $field }: "{ $current }" → "{ $wanted }"
tg-summary-email = Email: { $email } (confirmed)
tg-summary-phone = Phone: { $phone } (our staff will verify it themselves)
tg-request-confirmed = Your request has been sent. Its number and due date follow in a moment.
tg-request-created-phone = Your request { $id } is registered; we will answer by { $due }. We cannot verify a phone number in this chat, so our staff will contact you to confirm it is yours.
tg-request-failed = Sorry, the request could not be registered. Please try again later.
tg-too-many-open = You already have open requests ({ $ids }). Please wait for them to be handled.
tg-info-prompt = Request { $id }: our staff asked: { $question }
    Type your answer.
tg-info-attached = Thank you, your answer has been added to request { $id }.
tg-info-failed = Sorry, the answer could not be attached: the request no longer waits for it.

# Talking to a person
tg-handoff-prompt = Write your message and I will pass it to our privacy team. They will reply in this chat.
tg-handoff-sent = Your message has been passed to our team. They will reply here.
tg-staff-reply-to-person = Reply from the JetBit privacy team:
    { $text }

# My requests, /privacy, /forget
tg-mine-none = You have no requests.
tg-mine-title = <b>Your requests:</b>
tg-mine-item = • { $id }: { $type }, { $status }, due by { $due }
tg-mine-more = … and { $count } more.
tg-privacy = <b>What this bot stores about you</b>
    • your Telegram id, chat id and chosen language;
    • messages you send to our team ({ $handoffs }), kept { $transcripts_days ->
        [one] { $transcripts_days } day
       *[other] { $transcripts_days } days
    };
    • email confirmation codes, only as a hash, kept { $codes_days ->
        [one] { $codes_days } day
       *[other] { $codes_days } days
    } at most;
    • your requests ({ $requests }): contact, details and history, as the law requires; personal details of closed requests are removed after { $closed_days ->
        [one] { $closed_days } day
       *[other] { $closed_days } days
    }, leaving only an anonymous record that the request was handled.
    • questions I could not answer, or whose answer did not help, without your name, email or phone and not linked to you, so that our team can teach me: kept { $learning_days ->
        [one] { $learning_days } day
       *[other] { $learning_days } days
    }.
    /forget erases your chat data.
tg-forget-ask = Erase your chat data: messages to our team, chosen language, conversation state and confirmation codes? This cannot be undone. Your requests stay: the law requires us to keep a record of how they were handled.
tg-btn-forget-erase = 🗑 Erase
tg-btn-forget-keep = Keep
tg-forget-kept-all = Nothing was erased.
tg-forget-stale = This button no longer works: nothing was erased. Send /forget again.
tg-forget-done = Done: your chat data (messages to our team, language, conversation state, codes) has been erased.
tg-forget-done-kept = Done: your chat data has been erased. Your requests { $ids } are kept, because the law requires us to keep a record of how they were handled; their personal details are removed { $closed_days ->
        [one] { $closed_days } day
       *[other] { $closed_days } days
    } after they close.

# Staff chat
tg-staff-help = Staff chat commands:
    /queue: open requests by due date (a button opens each card)
    /request ID: a request's card
    /overdue: overdue requests
    /stats: counts by state
    Reply to a forwarded message to answer the person.
    "Teach the bot": press the section that answers the question (or "Not in the policy"); every waiting question: privacy-bot examples review.
tg-staff-queue = <b>Open requests ({ $count }):</b>
tg-staff-queue-empty = No open requests.
tg-staff-overdue = <b>Overdue requests ({ $count }):</b>
tg-staff-overdue-empty = No overdue requests.
tg-staff-list-item = • { $id }: { $type }, { $status }, due { $due }
tg-staff-list-more = … and { $count } more: privacy-bot requests list
tg-staff-stats = Open: { $open }, overdue: { $overdue }.
tg-staff-request-usage = Usage: /request PR-2026-0001
tg-staff-not-found = Request { $id } not found.
tg-staff-open-closed = Request { $id } is no longer in the queue: { $status }. Its card: /request { $id }
tg-staff-btn-approve = ✅ Approve
tg-staff-btn-reject = ⛔ Reject
tg-staff-btn-need_info = ❓ Need info
tg-staff-btn-complete = ✔️ Done (data deleted/corrected)
tg-staff-btn-cancel = { $status ->
    [awaiting_verification] ✖️ Cancel (identity not confirmed)
   *[other] ✖️ Cancel (withdrawn by the requester)
}
tg-staff-btn-verify = ☎️ Phone verified
tg-staff-done = Done.
tg-staff-done-id = Request { $id }: { $status }.
tg-staff-stale = This request is already { $status } (by { $by } { $at }).
tg-staff-already-decided = Already decided: { $status }, by { $by } { $at }.
tg-staff-action-failed = Not done: { $error }
tg-staff-reject-prompt = Request { $id }: reply to this message with the reason for the rejection (within { $minutes } min; you will see it again before it is sent), or choose a preset reason:
tg-staff-info-prompt = Request { $id }: reply to this message with your question for the requester (within { $minutes } min; you will see it again before it is sent).
tg-reject-preset-1 = We could not confirm your identity.
tg-reject-preset-2 = We hold no personal data under the details you gave.
tg-reject-preset-3 = The law requires us to keep this data.
tg-staff-handoff-hint = Reply to this message to answer the person in Telegram.
tg-staff-reply-sent = Sent to the person.
tg-staff-reply-sent-shortened = Sent to the person, shortened: a Telegram message holds at most { $limit } characters.
tg-staff-reply-blocked = Not delivered: the person has blocked the bot.
tg-staff-reply-failed = Not delivered: Telegram refused the message.
tg-card-title = <b>Request <code>{ $id }</code></b>: { $type }
tg-card-channel = Channel: { $channel ->
    [telegram] Telegram
    [email] email
   *[manual] in person, by phone or by letter (entered by staff)
}, language: { $language }
tg-card-telegram = { $name }{ $has_id ->
    [yes] {" "}(Telegram, id <code>{ $user_id }</code>)
   *[no] {""}
}
tg-card-language = { $code ->
    [en] English
   *[ru] Russian
}
tg-card-requester = Requester: { $requester }
tg-card-verification = Verification: { $method }{ $phone ->
        [1] (phone NOT verified: check it yourselves)
       *[other] {""}
    }
tg-card-details = Details: { $details }
tg-card-correction = • { $field }: "{ $current }" → "{ $wanted }"
tg-card-due = Due: { $due }
tg-card-status = State: <b>{ $status }</b>
tg-card-decided = Decided by { $by }, { $at }
tg-card-reason = Reason: { $reason }
tg-card-question = Question: { $question }
tg-card-duplicate = Duplicate of { $id }
tg-card-auth-warning = ⚠ { $confirmation ->
    [yes] A confirmation came in mail that failed the sender checks (SPF/DKIM/DMARC) and was not accepted: verify the requester another way.
   *[no] The request came in mail that failed the sender checks (SPF/DKIM/DMARC): the From address may be forged. Nothing was sent to it; verify the requester another way or cancel.
}
tg-card-corrections-more = • … and { $count } more
tg-card-shortened = <i>Shortened to fit Telegram; all of it: privacy-bot requests show { $id }</i>

# Learning from staff: a question the bot could not answer, or whose answer did not help
tg-learn-post = <b>Teach the bot</b>: question { $id } ({ $language }, { $channel }). { $reason ->
        [abstained] I could not answer it.
       *[unhelpful] I answered; the person said it did not help.
    }{ $asked ->
        [1] {""}
       *[other] { " " }Asked { $asked } times.
    }
    <blockquote>{ $text }</blockquote>
    { $offered }
tg-learn-offered = Sections I offered: { $sections }
tg-learn-offered-none = I offered no section.
tg-learn-ask = Which section answers it?
tg-learn-choose = Choose the section that answers it:
tg-learn-btn-other = 📚 Other section…
tg-learn-btn-back = « Offered sections
tg-learn-btn-none = 🚫 Not in the policy
tg-learn-decided = ✅ Learnt: «{ $section }» ({ $by }, { $at }).
tg-learn-decided-none = ✅ Learnt: the policy does not answer it ({ $by }, { $at }).
tg-learn-done = Learnt.
tg-learn-stale = Already decided by { $by } { $at }.

# Console chat
tg-console-intro = Console chat with the privacy bot: type messages as in Telegram; type a button's number to press it; /quit or Ctrl-D to leave.
tg-console-staff-intro = Console chat as a staff member in the staff chat: /queue, /request ID, card buttons by number; /quit or Ctrl-D to leave.
tg-console-no-button = There is no button [{ $number }] on screen; nothing was pressed. On screen: { $buttons }. To send the number as text, start the line with { $escape }
tg-console-no-buttons = There is no button [{ $number }] on screen; nothing was pressed. To send the number as text, start the line with { $escape }
tg-console-how-to-connect = No channel is configured, so the console chat starts.
    To connect Telegram: set PRIVACY_BOT_TELEGRAM_TOKEN, and in config.toml [telegram] staff_chat_id and staff_user_ids (api_base for a self-hosted Bot API server).
    To connect email: [email] enabled = true, the IMAP/SMTP keys, PRIVACY_BOT_IMAP_PASSWORD and PRIVACY_BOT_SMTP_PASSWORD.
    Then run: privacy-bot run

# The command menu in Telegram's client
tg-cmd-start = Start: what the bot can do
tg-cmd-myrequests = My requests and their state
tg-cmd-privacy = What the bot stores about me
tg-cmd-forget = Erase my chat data
tg-cmd-language = Change the language
tg-cmd-cancel = Cancel the current step
tg-cmd-help = Help
tg-cmd-queue = Open requests by due date
tg-cmd-overdue = Overdue requests
tg-cmd-stats = Counts by state
tg-cmd-request = A request's card: /request ID
tg-invalid-token = PRIVACY_BOT_TELEGRAM_TOKEN is not a bot token (it looks like 123456:ABC-DEF...).
tg-limit-id-prefix = requests.id_prefix "{ $prefix }" does not fit in Telegram buttons: it may have at most { $bytes } bytes, without a colon, angle brackets or an ampersand.
tg-limit-section-id = policy section id "{ $section }" does not fit in a Telegram button: at most { $bytes } bytes.
tg-error = Sorry, something went wrong on our side. Please try again a little later.

tg-staff-prompt-confirm-reject = Reject request { $id } and send the requester this reason?
    
    «{ $text }»
tg-staff-prompt-confirm-info = Send the requester of { $id } this question?
    
    «{ $text }»
tg-staff-btn-send = 📨 Send
tg-staff-btn-drop = ✖️ Drop
tg-staff-prompt-not-yours = This prompt belongs to the staff member who pressed the button.
tg-staff-prompt-stale = This prompt was already used or dropped. Press the button on the card again.
tg-staff-prompt-expired = This prompt has expired. Press the button on the card again.
tg-staff-prompt-dropped = Dropped; nothing was sent.
tg-staff-reply-not-linked = Not sent: this post is not linked to a person, so a reply to it reaches nobody outside this chat. To answer someone, reply to their forwarded message (if it was posted a moment ago, try again in a few seconds).

# What a completed deletion destroyed (for the destruction act): chosen from the [destruction] lists.
tg-destruction-title = <b>Request { $id }: what was destroyed</b> (step { $step } of 2)
tg-destruction-step-categories = Tick the categories of personal data destroyed, then press "Next".
tg-destruction-step-systems = Tick the information systems the data were destroyed in, then press "Confirm". Method of destruction: { $method }.
tg-destruction-chosen = { $kind ->
    [categories] Categories
   *[systems] Systems
}: { $items }
tg-destruction-btn-next = Next →
tg-destruction-btn-back = ← Back
tg-destruction-btn-ok = ✔️ Confirm: done
tg-destruction-btn-drop = ✖️ Drop
tg-destruction-need-categories = Tick at least one category of data.
tg-destruction-need-systems = Tick at least one information system.
tg-destruction-done = <b>Request { $id } completed</b> ({ $by }).
tg-destruction-dropped = Request { $id }: choice dropped, the request is unchanged.
tg-destruction-not-yours = Another staff member started this choice: press "Done" on the card yourself.
tg-destruction-stale = This choice was already finished or dropped. Press "Done" on the card again.
tg-destruction-stale-step = That list is no longer shown: choose on the current step.
tg-destruction-expired = This choice has expired. Press "Done" on the card again.
tg-destruction-lists-changed = The lists of categories and systems changed. Press "Done" on the card again.
