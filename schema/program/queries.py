"""The program query (admin and shop backend)."""

from __future__ import annotations

import strawberry

from api.program import model
from schema.context import Info
from schema.program.types import Program


def program_of(info: Info, settings: model.ProgramSettings) -> Program:
    services = info.context.services
    return Program.from_domain(settings, services.config, services.program.now(settings))


@strawberry.type
class ProgramQuery:
    @strawberry.field(description="Admin and shop backend: the program's settings.")
    def program(self, info: Info) -> Program:
        ctx = info.context
        return program_of(info, ctx.services.program.get(ctx.principal))
