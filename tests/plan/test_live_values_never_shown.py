"""A live value is never shown, even when the manifest now sets that key to a literal: without a
state file odplan cannot know the live value was not a secret (found in review: a PR comment
would have published a database password)."""

from __future__ import annotations

from pydantic import SecretStr

from opendeploy_plan.plan import (
    DesiredService,
    DesiredSource,
    DesiredState,
    DesiredValue,
    PlanOptions,
    make_plan,
    new_salt,
    save_plan,
)
from opendeploy_plan.plan import plan_json as render_json
from opendeploy_plan.render import render_dot, render_human, render_markdown
from opendeploy_plan.state.model import (
    ObservedProject,
    ObservedService,
    ObservedState,
)

CANARY = "canary-live-value-7c1d"


def test_a_secret_turned_literal_never_shows_its_live_value() -> None:
    desired = DesiredState(
        project="shop",
        source=DesiredSource(digest="odsrc1:abc"),
        services={
            "web": DesiredService(
                type="web",
                env={
                    "STRIPE_KEY": DesiredValue.literal(""),
                    "DATABASE_URL": DesiredValue.literal("sqlite:///tmp/test.db"),
                },
                build_env={"NPM_TOKEN": DesiredValue.literal("unused")},
            )
        },
    )
    observed = ObservedState(
        project=ObservedProject(id="p1", name="shop", has_source=True),
        services={
            "web": ObservedService(
                id="s1",
                type="web",
                environment="production",
                env={
                    "STRIPE_KEY": SecretStr(f"sk_live_{CANARY}"),
                    "DATABASE_URL": SecretStr(f"postgres://app:{CANARY}@db/app"),
                },
                build_variables={"NPM_TOKEN": SecretStr(CANARY)},
            )
        },
    )
    plan = make_plan(desired, observed, PlanOptions(salt=new_salt()))
    assert {c.path for a in plan.actions for c in a.changes} >= {
        "env.STRIPE_KEY",
        "env.DATABASE_URL",
        "build_env.NPM_TOKEN",
    }
    views = [render_human(plan), render_json(plan), render_markdown(plan), render_dot(plan)]
    saved = save_plan(plan, manifest_digest="m", gateway="https://g/api").decode()
    for text in [*views, saved]:
        assert CANARY not in text
