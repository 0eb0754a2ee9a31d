"""Referrals: the referral card and list on Member, a code check before enrolment."""
