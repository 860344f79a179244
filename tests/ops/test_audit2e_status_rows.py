"""`odplan status` rows at their edges (second mutation audit, issue 19; ops/status.py): a
service's pending actions are its own addresses, not those of a service whose name merely
starts like it (`web` and `web2`), and a live row that says nothing about replicas shows the
platform's default of one."""

from __future__ import annotations

from opendeploy_plan.ops.status import IN_SYNC, PENDING, service_rows
from opendeploy_plan.plan import (
    DesiredService,
    DesiredSource,
    DesiredState,
    DesiredValue,
    PlanOptions,
    make_plan,
)
from opendeploy_plan.state.model import ObservedService, ObservedState
from tests.plan.perfect_apply import observed_after_apply

SERVICE = DesiredService(type="web", port=8080, env={"MODE": DesiredValue.literal("x")})


def test_a_service_is_not_charged_with_the_actions_of_a_longer_named_one() -> None:
    desired = DesiredState(
        project="shop",
        source=DesiredSource(digest="odsrc1:abc"),
        services={"web": SERVICE, "web2": SERVICE},
    )
    live = observed_after_apply(desired)
    observed = live.model_copy(update={"services": {"web": live.services["web"]}})
    plan = make_plan(desired, observed, PlanOptions())
    assert any(a.address.startswith("service.web2") for a in plan.actions)

    rows = {row.name: row for row in service_rows(observed, plan, {"web", "web2"})}

    assert rows["web"].sync == IN_SYNC
    assert rows["web"].pending == ()
    assert rows["web2"].sync == PENDING
    assert rows["web2"].pending
    assert all(p.startswith("service.web2") for p in rows["web2"].pending)


def test_a_live_row_without_replicas_shows_the_default_of_one() -> None:
    observed = ObservedState.empty().model_copy(
        update={
            "services": {
                "web": ObservedService(id="s1", type="web", environment="production", replicas=None)
            }
        }
    )
    (row,) = service_rows(observed, None, None)
    assert row.replicas == 1
    scaled = observed.model_copy(
        update={
            "services": {
                "web": ObservedService(id="s1", type="web", environment="production", replicas=3)
            }
        }
    )
    assert service_rows(scaled, None, None)[0].replicas == 3
