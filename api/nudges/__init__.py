"""Nudges: re-engagement messages to members who agreed: rules (what to send, when, and why
not), scheduling, sending, and one-click unsubscribe."""
