# The policy owner's workflow: `privacy-bot policy check`, `privacy-bot policy reload`, and the staff
# notice of a new policy version (bot/policy/check.py, bot/policy/snapshot.py, bot/policy_reload.py).

policy-language-name = { $language ->
    [ru] Russian
   *[en] English
}

## policy check: one line per problem, after the file it is in. $id a section id.
policy-check-malformed = { $problem }
policy-check-duplicate-id = duplicate id "{ $id }" (also in { $other })
policy-check-duplicate-order = duplicate order { $order } (also in { $other })
policy-check-unknown-parent = parent "{ $parent }" is not a section id
policy-check-missing-in-language = no file for section "{ $id }" (it is in { $other_file })
policy-check-order-mismatch = section "{ $id }" comes after { $after } here, but after { $other_after } in { $other_lang ->
    [ru] Russian
   *[en] English
} (the sections must come in the same order in both languages)
policy-check-order-start = the beginning
policy-check-section-name = "{ $id }"
policy-check-parent-mismatch = section "{ $id }" has parent "{ $parent }" here and "{ $other_parent }" in { $other_lang ->
    [ru] Russian
   *[en] English
}
policy-check-few-examples = section "{ $id }" has { $count ->
    [one] 1 example question
   *[other] { $count } example questions
} in { $language ->
    [ru] Russian
   *[en] English
}, at least { $min } are needed (its "examples" here plus lines of asked.jsonl)
policy-check-unknown-table = [{ $id }] is not a section id
policy-check-older-labels = labelled before section(s) { $ids } existed: labels that now read as theirs are set aside by the engine until they are labelled again (label them in the tuning sets, then run scripts/export_asked.py).
policy-check-unknown-asked = { $count ->
    [one] line { $lines } names
   *[other] lines { $lines }{ $more ->
        [0] {""}
       *[other] {" "}and { $more } more
    } name
} "{ $id }", which is not a section id
policy-check-summary = { $count ->
    [0] No problems found.
    [one] 1 problem.
   *[other] { $count } problems.
}
policy-check-folder = Policy folder { $folder }: version { $version }, effective { $date }.
policy-check-changes = Changes since the version the bot last ran ({ $old_version }, effective { $old_date }):
policy-check-no-changes = No section changed since the version the bot last ran ({ $old_version }, effective { $old_date }).
policy-check-never-ran = The bot has not recorded a policy in { $database } yet: nothing to compare with.
policy-check-database-unreadable = Cannot read the version the bot last ran from { $database }: { $problem }

## What changed: one line each (policy check, policy reload and the staff notice).
policy-change-added = added: { $id } ({ $title })
policy-change-removed = removed: { $id } ({ $title })
policy-change-changed = changed: { $id } ({ $title }), { $languages }
policy-change-renamed = likely renamed: { $old } → { $new } ({ $title }; the texts are { $percent }% alike)
policy-change-none = no section changed (only file names, their order or the effective date)

## To the staff chat when the bot starts with, or reloads, a policy it has not run with before.
policy-staff-changed = The privacy policy the bot answers with has changed: version { $version }, effective { $date } (was { $old_version }, effective { $old_date }).

## policy reload
policy-reload-done = The bot (pid { $pid }) reloaded the policy: version { $version }, effective { $date }.
policy-reload-was = Before: version { $old_version }.
policy-reload-failed = the bot (pid { $pid }) could not reload the policy and still answers with version { $version }: { $error }
policy-reload-no-bot = no running bot: there is no pid file { $path } (the bot writes it while it runs with a Telegram or email channel)
policy-reload-stale = no running bot: the pid file { $path } is stale (process { $pid } has ended)
policy-reload-timeout = the bot (pid { $pid }) did not report the reload within { $seconds } s; see its log
policy-reload-stopped = the bot (pid { $pid }) stopped before it reported the reload
policy-reload-waiting = Asked the bot (pid { $pid }) to reload the policy from { $folder }…
