"""Entry points: Lambda handlers and the local dev server."""
