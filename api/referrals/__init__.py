"""Referrals: members' codes, the customers who enrol with them, and the points they earn."""
