"""Promotions and checkout: evaluate, reserve, release; admins manage promotions and codes."""
