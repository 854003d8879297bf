# Email channel (handlers/email) and handoffs (bot/handoffs.py).

email-default-subject = Your message to JetBit
email-signature = --
    JetBit Support
    This message was written by our support bot; just reply to reach a person.

## Answers. $answer is the quoted policy text already rendered.
email-answer = Hello!

    { $answer }

    If this does not answer your question, reply to this message and a staff member will help you.
email-greeting = Hello! Thank you for writing to us. Ask us anything about how JetBit handles personal data, or write to us to have your data deleted, corrected or to get a copy of it.
email-not-in-policy = Hello! Thank you for your question. Our privacy policy does not say anything about this, so we have passed your question to a member of our staff, who will reply to you by email.
email-reply-limit = Hello! Your message has been received. We have already answered { $cap } of your messages within the last hour, so we send no more automatic answers for now (this protects against mail loops). If you asked for a member of staff, they will see your message. Automatic answers resume after { $at }: if you need an answer to a question or a confirmation of a request, please write again after that time.
email-handoff-ack = Hello! Thank you for your message. We have passed it to a member of our staff, who will reply to you by email.

## Requests by email. $id request id, $what the kind of request (email-request-type), $hours how long the confirmation is valid.
email-request-type = { $type ->
    [deletion] deletion of your personal data
    [correction] correction of your personal data
   *[access] access to your personal data
}
email-confirm-subject = Please confirm your request { $id }
email-confirm = Hello!

    We have received your request for { $what } and registered it as { $id }.

    To make sure that the request really comes from the owner of this address, please reply to this message (the text of the reply does not matter). If you write a new message instead, include this confirmation code: { $token }. Without a confirmation within { $hours ->
        [one] { $hours } hour
       *[other] { $hours } hours
    } the request will be closed.

    If you did not send this request, do nothing: without your confirmation nothing will happen to your data.
email-confirm-third-party = Please note: we can only act on a request about your own data. This request covers only the data linked to this address; a person whose data you mentioned has to write to us themselves.
email-reminder-subject = Reminder: please confirm your request { $id }
email-reminder = Hello!

    Your request { $id } for { $what } is still waiting for your confirmation. Please reply to this message (or write to us with the confirmation code { $token }); otherwise the request will be closed. If you did not send this request, do nothing.
email-too-many-open = Hello! You already have { $count } open requests: { $ids }. We will be able to accept a new one once they are handled. To add something to an open request, reply to our message about it.

## Staff side.
email-note-auth-failed = ⚠ The sender's server checks failed ({ $results }): the From address may be forged.
email-note-third-party = ⚠ The mail mentions another person's data; the request covers only the sender's own data.
email-note-reply-to = ⚠ Reply-To differs from From ({ $reply_to }); answers go to From only.
email-attachments-note = Attachments (not kept): { $list }
handoff-reason = { $reason ->
    [not_in_policy] a question the privacy policy does not answer
    [unplaced] the bot could not place the message
    [human] the person asked for a member of staff
    [unreadable] the message could not be read
    [out_of_scope] not about personal data
    [thread_other_sender] a reply in a request's thread from a different address
    [request_follow_up] a follow-up on a request
    [request_closed] a message about a closed request
    [error] the bot failed on this message (see the log)
    [bad_sender] the From header names no single address we could answer (none, several, or unparseable)
    [unproven_confirmation] a message about an unconfirmed request that does not answer our confirmation mail (it proves nothing)
    [unproven_follow_up] a message naming a request that does not reply to any mail of ours: the sender is not proven to be the requester
    [auth_failed] mail that failed the sender checks (SPF/DKIM/DMARC): the sender may be forged
    [third_party] a request that mentions another person's data
   *[other] { $reason }
}
handoff-staff = Needs a person (#{ $id }, { $channel }): { $reason }.
    From: { $sender }
    Subject: { $subject }

    { $text }
handoff-cli-line = #{ $id } { $created } [{ $status }] { $channel } { $sender } ({ $reason }): { $subject }
handoff-cli-empty = No open handoffs.
handoff-cli-not-found = handoff { $id } not found
handoff-cli-reference = Reference: { $reference }
handoff-cli-closed = Closed by { $by } at { $at }.
handoff-cli-already-closed = handoff { $id } was already closed by { $by }
