"""Re-engagement nudges: rules (what to send, when, and why not), scheduling and sending."""
