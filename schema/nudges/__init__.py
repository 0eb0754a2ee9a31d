"""Nudges: unsubscribe links for the shop's emails, and the public unsubscribe page."""
