# Privacy requests: notifications to requesters and staff, the staff command line, the destruction act.

request-type = { $type ->
    [deletion] deletion of personal data
    [correction] correction of personal data
   *[access] access to personal data
}
request-status = { $status ->
    [awaiting_verification] awaiting verification
    [pending_review] pending review
    [needs_info] more information needed
    [approved] approved
    [rejected] rejected
    [completed] completed
    [cancelled] cancelled
   *[expired] expired
}

verification-method = { $method ->
    [channel] proven by the channel itself (the message came from this account)
    [email_code] email, confirmed by a code
    [email_reply] email, confirmed by a reply
    [staff] checked by staff
    [unverified_phone] phone, not verified
   *[none] not confirmed
}
request-channel = { $channel ->
    [telegram] via Telegram
    [email] by email
   *[manual] in person, by phone or by letter
}

## To the requester. $id request id, $type request type, $due / $date dates already formatted.
request-created-subject = Your request { $id } has been registered
request-created = Your request { $id } ({ $type_name }) has been registered. Under the law we will answer by { $due }.
request-duplicate-subject = Your request { $id } is already being handled
request-duplicate = You already have an open request { $id } ({ $type_name }); we have added this message to it. The answer is due by { $due }.
request-approved-subject = Your request { $id } has been approved
request-approved = Your request { $id } ({ $type_name }) has been approved. We will let you know as soon as it is carried out, no later than { $due }.
request-rejected-subject = Your request { $id } has been declined
request-rejected = We have declined your request { $id } ({ $type_name }). Reason: { $reason }
request-needs-info-subject = We need more information for request { $id }
request-needs-info = To handle your request { $id } we need more information: { $question }
    Please reply to this message.
request-info-received-subject = We have received your answer for request { $id }
request-info-received = Thank you, we have received your answer. Request { $id } is back with our staff.
request-completed-subject = Your request { $id } has been completed
request-completed = { $type ->
    [deletion] Your request { $id } has been completed: your personal data has been deleted.
    [correction] Your request { $id } has been completed: your personal data has been corrected.
   *[access] Your request { $id } has been completed: the information about your personal data has been sent to you.
}
request-extended-subject = The deadline for request { $id } has been extended
request-extended = The deadline for your request { $id } has been extended to { $date }. Reason: { $reason }
request-cancelled-subject = Your request { $id } has been cancelled
request-cancelled = Your request { $id } ({ $type_name }) has been cancelled.
request-expired-subject = Your request { $id } has expired
request-expired = Your request { $id } ({ $type_name }) has been closed because it was not confirmed or the information we asked for did not arrive. You can submit a new request at any time.

## To staff.
staff-request-created = New request { $id }: { $type_name }, received { $channel_name }. Due { $due }.
staff-request-updated = Request { $id } is now { $status_name } ({ $actor }).
staff-request-info = Request { $id }: the requester answered: { $text }
staff-request-flagged = Request { $id }: { $why ->
    [auth_failed] a confirmation came from mail that failed the sender checks (SPF/DKIM/DMARC); it was not accepted. Verify the requester another way.
   *[other] { $why }
}
staff-request-extended = Request { $id }: deadline extended to { $date } ({ $actor }). Reason: { $reason }
staff-reminder-due = Reminder: request { $id } ({ $type_name }, { $status_name }) is due { $due }.
staff-reminder-overdue = Overdue: request { $id } ({ $type_name }, { $status_name }) was due { $due }.
staff-delivery-failed = Request { $id }: message "{ $kind }" could not be delivered via { $channel }. { $fallback ->
    [none] The requester has no other verified channel.
   *[other] Sent via { $fallback } instead.
}

## Staff command line.
cli-error = error: { $message }
cli-not-found = request { $id } not found
cli-illegal-transition = request { $id } is { $status_name }: it cannot become { $target_name }
cli-already-decided = request { $id } was already decided: { $status_name } by { $by } at { $at }
cli-too-many-open = the requester already has { $count } open requests (limit { $limit }): { $ids }
cli-missing-reason = a { $what } is required
cli-cannot-extend = request { $id } cannot be extended: { $why }
cli-need-requester = give at least one of --email, --phone, --telegram-id
cli-bad-date = not a date: { $value } (expected YYYY-MM-DD)
cli-bad-datetime = not a date and time: { $value } (expected ISO 8601, e.g. 2026-01-15T10:30:00+03:00)
cli-act-not-completed-deletion = request { $id } is not a completed deletion: no destruction act
cli-unknown-choice = unknown { $kind ->
    [categories] category of personal data
   *[systems] information system
} "{ $value }"; known: { $known }
cli-destruction-required = request { $id } is a deletion: name what was destroyed with --categories ({ $categories }) and --systems ({ $systems })
cli-destruction-not-applicable = request { $id } is not a deletion ({ $type_name }): --categories and --systems are for deletions only
cli-allowed-now = { $count ->
    [0] nothing more can be done: the request is closed
   *[other] possible now: { $actions }
}
cli-show-actions = { $count ->
    [0] Actions: none (the request is closed)
   *[other] Actions: { $actions }
}
cli-created = Created { $id } ({ $status }), due { $due }.
cli-duplicate = Linked to the open request { $id } (a duplicate), due { $due }.
cli-done = { $id }: { $status }
cli-extended = { $id }: due date extended to { $date }
cli-empty = No requests.
cli-table-header = ID | TYPE | CHANNEL | STATUS | RECEIVED | DUE | DECIDED BY
cli-show-field = { $field ->
    [id] Number
    [type] Type
    [channel] Channel
    [lang] Language
    [status] Status
    [identity-telegram] Telegram
    [identity-email] Email
    [identity-phone] Phone
    [verification] Verification
    [verified_at] Verified
    [received_at] Received
    [decided_at] Decided
    [completed_at] Completed
    [closed_at] Closed
    [redacted_at] Redacted
    [due_date] Due
    [extension_reason] Extension reason
    [decided_by] Decided by
    [decision_reason] Decision reason
    [info_question] Question to the requester
    [duplicate_of] Duplicate of
    [details] Details
    [correction] Correction
    [flags] Flags
    [destroyed] Destroyed (categories; systems)
   *[other] { $field }
}: { $value }
cli-arg-invalid-choice = { $argument }: no such choice "{ $value }" (choose from { $known })
cli-arg-required = missing arguments: { $argument }
cli-arg-unrecognized = unrecognised arguments: { $value }
cli-arg-expected-one = { $argument }: expects one value
cli-arg-invalid-value = { $argument }: invalid value "{ $value }"
cli-config-error = config error: { $problem }
cli-show-events = Events:
cli-show-deliveries = Messages:
cli-retention-done = Retention: { $redacted } requests redacted, { $bodies } message bodies removed, { $outbox } delivered messages removed, { $other } other records removed.

## Destruction act (Roskomnadzor order 179).
act-title = ACT OF DESTRUCTION OF PERSONAL DATA No. { $id }
act-body = Operator: { $operator }
    Data subject: { $subject }
    Categories of personal data destroyed: { $categories }
    Information systems the personal data were destroyed in: { $systems }
    Method of destruction: { $method }
    Reason: request of the data subject (Article 21 of Federal Law No. 152-FZ), request { $id } of { $received } (received { $channel_name })
    What the requester asked to delete: { $details }
    Date of destruction: { $completed } ({ $zone })
    Decision made by: { $decided_by }
    Carried out by (responsible): { $completed_by }
act-events-title = Extract from the event log of request { $id } (times: { $zone }):
act-event-line = { $at } | { $event } | { $actor } | { $details }
act-signatures = Carried out by: { $completed_by } ____________ (signature)
    Responsible for organising the processing of personal data: ____________ / ____________ /
    Date: ____________
act-zone = { $moscow ->
    [yes] Moscow time
   *[other] { $zone }
}
act-unknown = not recorded

## Learning from staff (bot/learning.py, privacy-bot examples). $language is the question's language.
learning-staff = Teach the bot: question { $id } ({ $language }, { $channel }) { $reason ->
        [abstained] could not be answered.
       *[unhelpful] was answered, and the person said the answer did not help.
    }
    «{ $text }»
    Sections offered: { $offered }
    privacy-bot examples review --id { $id } --section ID --by NAME (or --not-in-policy)
learning-cli-question = Question { $id } ({ $language }, { $channel }, { $reason ->
        [abstained] not answered
       *[unhelpful] "did not help"
    }, asked { $asked } { $asked ->
        [one] time
       *[other] times
    }, { $created }):
learning-cli-offered = Offered: { $offered }
learning-cli-offered-none = Offered: no section.
learning-cli-sections = Sections (* offered):
learning-cli-prompt = Section number, n = not in the policy, s = skip, q = quit:
learning-cli-bad-choice = Not a choice: { $choice }
learning-cli-learnt = Question { $id }: learnt, { $section }.
learning-cli-learnt-none = Question { $id }: learnt, the policy does not answer it.
learning-cli-skipped = Question { $id }: skipped.
learning-cli-empty = No questions wait for a section.
learning-cli-summary = Decided: { $decided }, skipped: { $skipped }, still waiting: { $left }.
learning-cli-not-found = question { $id } not found
learning-cli-already = question { $id } was already decided by { $by } at { $at }
learning-cli-unknown-section = the { $language } policy has no section { $section } (privacy-bot policy list)
learning-cli-need-choice = with --id, give --section ID or --not-in-policy
learning-cli-need-id = --section and --not-in-policy need --id
learning-cli-exported = { $language }: { $path } ({ $count } examples, { $changed } added or changed)
learning-cli-export-empty = No learnt examples yet.
learning-cli-example = { $language } | { $section } | { $text }
learning-cli-not-in-policy = (not in the policy)

## Backups and restore (bot/backup.py, privacy-bot backup / restore)
backup-done = Backup { $path }: checked, { $requests } requests, { $events } audit events.
backup-rotated = Removed { $count } older { $count ->
    [one] copy
   *[other] copies
} (keeping the newest { $keep }).
backup-missing = { $path }: no such file
backup-is-folder = { $path }: is a folder, not a database file
backup-unusable = database { $path }: { $problem }
backup-not-ours = { $path }: not a privacy-bot database (it has no schema_migrations table)
backup-damaged = { $path }: the file is damaged (integrity check: { $problem })
backup-exists = { $path }: already exists; nothing was overwritten
backup-cannot-write = cannot write a backup in { $path }: { $problem }
backup-no-folder = cannot write a backup in { $path }: no such folder
backup-counts-differ = { $path }: the copy does not hold what the database held when it was taken; it was deleted
restore-newer = { $path }: written by a newer version of privacy-bot (schema { $versions } unknown to this one); restore it with that version
restore-running = a bot is running on database { $database } (pid { $pid }): stop it first, then restore
restore-in-use = database { $database } is open in another process: stop it first, then restore
restore-done = Restored { $database } from { $path }: { $requests } requests, { $events } audit events.
restore-replaced = The replaced database is kept as { $path }.
restore-older = The copy is from an earlier version: { $count ->
    [one] one migration is
   *[other] { $count } migrations are
} applied at the next start (after a copy into the backup folder).
db-newer-version = database { $database }: written by a newer version of privacy-bot (schema { $versions } unknown to this one): run that version, or restore a backup taken before the upgrade (privacy-bot restore)
db-upgrade-backup-failed = database { $database }: not upgraded, because the copy before the upgrade failed: { $reason }
