"""Members: enrolment, profile and consents, and the home view."""
