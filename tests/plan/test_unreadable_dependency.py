"""A new service that uses a live database nobody can read the variables of is a plan error.

The documented gateway shows a dependency's `env_vars` only in the answer that created it; later
they are known only from the live services that carry them. A database made by hand, adopted
by elimination, or whose services were all deleted has none: creating a service that `uses` it
would give it no `DATABASE_URL` and report success (found by issue 19's audit, round 2)."""

from __future__ import annotations

from pydantic import SecretStr

from opendeploy_plan.plan import (
    DesiredDependency,
    DesiredService,
    DesiredSource,
    DesiredState,
    DesiredValue,
    Plan,
    PlanOptions,
    make_plan,
)
from opendeploy_plan.state.model import (
    ObservedDependency,
    ObservedProject,
    ObservedService,
    ObservedState,
)

DB = DesiredDependency(type="postgres")
PROJECT = ObservedProject(id="p1", name="shop")
UNREAD_DB = ObservedDependency(id="d1", type="postgres")  # a documented `{id, status}` row


def _desired(**services: DesiredService) -> DesiredState:
    return DesiredState(
        project="shop",
        source=DesiredSource(digest="odsrc1:abc"),
        dependencies={"db": DB},
        services=services,
    )


def _observed(
    db: ObservedDependency | None = UNREAD_DB, **services: ObservedService
) -> ObservedState:
    return ObservedState(project=PROJECT, dependencies={"db": db} if db else {}, services=services)


def _unreadable_errors(plan: Plan) -> list[str]:
    return [e.path for e in plan.errors if "cannot be read" in e.summary]


def test_a_new_service_on_a_database_nobody_can_read_is_an_error() -> None:
    plan = make_plan(_desired(web=DesiredService(uses=("db",))), _observed())
    [error] = [e for e in plan.errors if "cannot be read" in e.summary]
    assert error.path == "service.web"
    assert "dependency.db" in error.summary
    assert "--replace dependency.db --allow-data-loss" in error.detail
    assert "env yourself" in error.detail


def test_a_live_service_carrying_the_variables_makes_them_known() -> None:
    api = ObservedService(
        id="s1",
        type="web",
        environment="production",
        env={"DATABASE_URL": SecretStr("postgres://u:p@h/db")},
    )
    desired = _desired(api=DesiredService(uses=("db",)), web=DesiredService(uses=("db",)))
    plan = make_plan(desired, _observed(api=api))
    assert _unreadable_errors(plan) == []


def test_a_service_that_sets_the_connection_itself_is_not_blocked() -> None:
    own = DesiredService(uses=("db",), env={"DATABASE_URL": DesiredValue.literal("postgres://x")})
    assert _unreadable_errors(make_plan(_desired(web=own), _observed())) == []
    other = DesiredService(uses=("db",), env={"LOG_LEVEL": DesiredValue.literal("debug")})
    assert _unreadable_errors(make_plan(_desired(web=other), _observed())) == ["service.web"]


def test_a_database_the_gateway_shows_the_variables_of_is_fine() -> None:
    readable = ObservedDependency(
        id="d1", type="postgres", env_vars={"DATABASE_URL": SecretStr("postgres://u:p@h/db")}
    )
    plan = make_plan(_desired(web=DesiredService(uses=("db",))), _observed(readable))
    assert _unreadable_errors(plan) == []


def test_a_database_created_or_replaced_in_this_plan_is_read_from_its_answer() -> None:
    new = make_plan(_desired(web=DesiredService(uses=("db",))), _observed(db=None))
    assert _unreadable_errors(new) == []
    replaced = make_plan(
        _desired(web=DesiredService(uses=("db",))),
        _observed(),
        PlanOptions(replace=("dependency.db",), allow_data_loss=True),
    )
    assert _unreadable_errors(replaced) == []


def test_a_service_that_does_not_use_the_database_is_not_blocked() -> None:
    plan = make_plan(_desired(web=DesiredService()), _observed())
    assert _unreadable_errors(plan) == []
