"""Nudges: re-engagement messages to members who agreed, and one-click unsubscribe."""
