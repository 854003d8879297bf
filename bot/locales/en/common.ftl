# Shared strings. Each area has its own file: core.ftl (requests, notifications), telegram.ftl, email.ftl.
policy-link = Full policy: { $url }
