"""Planner defaults a user relies on (issue 19): what a plan does when no flag is given.

Each test pins one default by its effect, so changing the default fails here and not only in
some golden file."""

from __future__ import annotations

from pydantic import SecretStr

from opendeploy_plan.plan import (
    ActionKind,
    DesiredDependency,
    DesiredService,
    DesiredSource,
    DesiredState,
    DesiredValue,
    PlanOptions,
    make_plan,
)
from opendeploy_plan.plan.settings import PLATFORM_DEFAULTS
from opendeploy_plan.state.model import ObservedDependency, ObservedService, ObservedState
from tests.plan.perfect_apply import observed_after_apply

WEB = DesiredService(type="web", port=8080, env={"MODE": DesiredValue.literal("x")})


def _desired(**services: DesiredService) -> DesiredState:
    return DesiredState(
        project="shop", source=DesiredSource(digest="odsrc1:abc"), services=services or {"web": WEB}
    )


def test_options_default_to_the_safe_side() -> None:
    options = PlanOptions()
    assert options.target == options.exclude == options.redeploy == options.replace == ()
    assert not options.prune
    assert not options.allow_data_loss
    assert not options.refresh_only
    assert not options.guest
    assert options.salt == b""


def test_manifest_defaults() -> None:
    desired = _desired()
    assert desired.environment == "production"
    assert desired.source.kind == "archive"
    assert DesiredService().type == "web"
    assert DesiredService().env_policy == "replace"
    assert PLATFORM_DEFAULTS == {"replicas": 1, "auto_scaling": False, "internal_only": False}


def _with_unmanaged() -> tuple[DesiredState, ObservedState]:
    desired = _desired()
    observed = observed_after_apply(desired)
    extra_service = ObservedService(id="s-old", type="worker", environment="production")
    extra_db = ObservedDependency(id="d-old", type="postgres")
    return desired, observed.model_copy(
        update={
            "services": {**observed.services, "old": extra_service},
            "dependencies": {"olddb": extra_db},
        }
    )


def test_without_prune_unmanaged_resources_are_listed_never_deleted() -> None:
    desired, observed = _with_unmanaged()
    plan = make_plan(desired, observed)
    assert plan.actions == ()
    assert plan.unmanaged == ("dependency.olddb", "service.old")
    assert not plan.errors


def test_with_prune_a_database_delete_needs_allow_data_loss() -> None:
    desired, observed = _with_unmanaged()
    plan = make_plan(desired, observed, PlanOptions(prune=True))
    assert plan.action("dependency.olddb") is not None
    assert [e.path for e in plan.errors] == ["dependency.olddb"]
    allowed = make_plan(desired, observed, PlanOptions(prune=True, allow_data_loss=True))
    assert not allowed.errors
    assert allowed.action("service.old") is not None


def test_replacing_a_database_defaults_to_refusing() -> None:
    desired = _desired(
        web=WEB.model_copy(update={"uses": ("db",)}),
    ).model_copy(update={"dependencies": {"db": DesiredDependency(type="postgres")}})
    observed = observed_after_apply(desired)
    mysql = observed.dependencies["db"].model_copy(update={"type": "mysql"})
    plan = make_plan(desired, observed.model_copy(update={"dependencies": {"db": mysql}}))
    action = plan.action("dependency.db")
    assert action is not None and action.kind is ActionKind.REPLACE
    assert [e.path for e in plan.errors] == ["dependency.db"]


def test_env_policy_replace_removes_live_keys_the_manifest_lacks() -> None:
    desired = _desired()
    observed = observed_after_apply(desired)
    web = observed.services["web"]
    edited = web.model_copy(update={"env": {**web.env, "EXTRA": SecretStr("1")}})
    plan = make_plan(desired, observed.model_copy(update={"services": {"web": edited}}))
    env = plan.action("service.web.env")
    assert env is not None
    assert [(c.path, c.kind.value) for c in env.changes] == [("env.EXTRA", "remove")]


def test_guest_caps_are_checked_only_for_guests() -> None:
    big = DesiredService(type="web", port=8080, replicas=3)
    desired = _desired(web=big, api=big)
    plain = make_plan(desired, ObservedState.empty())
    assert not [w for w in plain.diagnostics if "cap" in w.summary]
    guest = make_plan(desired, ObservedState.empty(), PlanOptions(guest=True))
    summaries = sorted(w.summary for w in guest.errors)  # the gateway would answer 403
    assert "2 services exceed the guest cap of 1 per project" in summaries
    assert "3 replicas exceed the guest cap of 1" in summaries


def test_the_guest_service_cap_is_one_service_per_project_exactly() -> None:
    one = make_plan(_desired(), ObservedState.empty(), PlanOptions(guest=True))
    assert not [w for w in one.diagnostics if "per project" in w.summary]
