# Shared strings. Each area has its own file: core.ftl (requests, notifications), telegram.ftl, email.ftl.
policy-link = Full policy: { $url }
# A moment as people and staff see it: always Moscow time, with the date in the language's format.
datetime-moscow = { $date } { $time } Moscow time

