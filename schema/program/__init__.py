"""Program settings and the test clock."""

from schema.program.mutations import ProgramMutation
from schema.program.queries import ProgramQuery

__all__ = ["ProgramMutation", "ProgramQuery"]
