"""Feedback: product reviews and ratings (surveys later)."""
