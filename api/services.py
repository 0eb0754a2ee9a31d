"""The domain, wired once per container: every entry point builds this and calls into it."""

from __future__ import annotations

from dataclasses import dataclass

from api.clock import Clock, SystemClock
from api.config import Config
from api.ledger import LedgerService
from api.maintenance import MaintenanceService
from api.members import MemberService
from api.program import ProgramService
from api.store.binding import bind


@dataclass(frozen=True)
class Services:
    config: Config
    clock: Clock
    program: ProgramService
    members: MemberService
    ledger: LedgerService
    maintenance: MaintenanceService


def build_services(config: Config, clock: Clock | None = None) -> Services:
    clock = clock or SystemClock()
    bind(config)
    program = ProgramService(config, clock)
    return Services(
        config=config,
        clock=clock,
        program=program,
        members=MemberService(clock, program),
        ledger=LedgerService(config, clock, program),
        maintenance=MaintenanceService(clock, program, config.maintenance_workers),
    )
