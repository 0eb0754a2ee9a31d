"""Feedback: reviews and ratings."""
