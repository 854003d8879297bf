# The policy answer engine and the policy commands.
policy-answer-heading = From our privacy policy, section “{ $title }”:
policy-answer-subsections = The cases, each answered in its own section:
policy-answer-link = Read the full policy: { $url }
policy-section-label = Section
policy-version-label = Policy version { $version }, effective { $date }
policy-not-said = The privacy policy does not say this. A person can answer it.
policy-no-answer = I could not find this in our privacy policy. A person from our team can help you.
policy-intent-deletion = This looks like a request to delete your data or withdraw your consent.
policy-intent-correction = This looks like a request to correct or update your data.
policy-intent-access = This looks like a request to know what data we hold about you.
policy-intent-human = You would like to talk to a person.
policy-intent-greeting = Hello! Ask me anything about how we handle personal data.
policy-intent-out-of-scope = This does not seem to be about privacy or personal data.
policy-list-header = Sections of the privacy policy ({ $language }):
