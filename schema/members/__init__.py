"""Members: profile, consents and the home view; enrolment and profile changes."""

from schema.members.mutations import MemberMutation
from schema.members.queries import MemberQuery

__all__ = ["MemberMutation", "MemberQuery"]
