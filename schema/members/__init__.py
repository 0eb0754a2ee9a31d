"""Members: profile, consents and the home view; enrolment and profile changes."""
