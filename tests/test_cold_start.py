"""Cold start budget, in the style of Powertools' tests/performance: importing the Lambda
handler in a fresh interpreter costs little more than importing the libraries it uses.

What the handler adds (our modules, the GraphQL schema, the services) is built once per
container and needed by every request; a regression here is paid on every cold start.
"""

from __future__ import annotations

import statistics

from tests.support import import_time, third_party_modules

RUNS = 7
ENV = {"STAGE": "prod", "TABLE_NAME": "loyalty-budget", "AWS_REGION": "us-east-1"}
# A ratio, not milliseconds: a slower or busier machine slows both sides. Measured at
# 1.1-1.55x with points, members and tiers (100-160 ms over ~300 ms), 1.9-2.1x with
# promotions: ~105 ms more, 23 dataclasses (~1 ms each to create) and ~55 ms of Strawberry
# types, 2.3-2.5x with rewards (~12 dataclasses, ~40 ms of Strawberry types), about 0.15x
# more with referrals (~40 ms: 9 dataclasses and enums, 12 Strawberry types and enums), 2.8x
# with reviews, 2.85-3.0x with surveys and follow-ups (feedback in all: ~45 ms of api/ and
# ~60 ms of schema/, the largest domain), 3.5-3.7x with nudges (~120 ms of api/: settings,
# rules, triggers, records, templates, channels; ~90 ms of Strawberry types for settings,
# templates, devices and admin reads; Jinja2 and Babel stay unimported until a template
# renders). Each domain adds its types; in prod SnapStart snapshots the container after this
# import, so a cold start restores it instead of paying it (README, "SnapStart"). The budget
# leaves room for analytics: past it, a regression is ours, not a domain's.
BUDGET_RATIO = 4.2


def test_handler_import_stays_close_to_its_libraries() -> None:
    libraries = "; ".join(f"import {m}" for m in third_party_modules("handlers.graphql", ENV))
    ours = statistics.median(import_time("import handlers.graphql", ENV) for _ in range(RUNS))
    alone = statistics.median(import_time(libraries, ENV) for _ in range(RUNS))
    assert ours / alone < BUDGET_RATIO, f"handlers.graphql {ours:.0f} ms, libraries {alone:.0f} ms"


def test_the_xray_sdk_is_not_imported_unless_tracing() -> None:
    modules = third_party_modules("handlers.graphql", ENV)
    assert not [m for m in modules if m.startswith("aws_xray_sdk")]
    traced = third_party_modules(
        "handlers.graphql",
        {**ENV, "POWERTOOLS_TRACE_DISABLED": "false", "AWS_LAMBDA_FUNCTION_NAME": "f"},
    )
    assert [m for m in traced if m.startswith("aws_xray_sdk")]
