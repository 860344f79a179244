"""The planner's small pure pieces, pinned one by one (survivors of `make mutation` on plan/):
action order among independent actions, addresses, stamps, value display, apply's variable
maps and the settings rule's normal form."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from opendeploy_plan.plan import (
    ActionKind,
    DesiredDependency,
    DesiredService,
    DesiredSource,
    DesiredState,
    DesiredValue,
    PlanOptions,
    PlanSummary,
    Stamp,
    format_stamp,
    make_plan,
    parse_stamp,
    resolve_variables,
)
from opendeploy_plan.plan import addresses as addr
from opendeploy_plan.plan.graph import sort_key
from opendeploy_plan.plan.settings import normal_setting
from opendeploy_plan.state.model import (
    ObservedDependency,
    ObservedDeployment,
    ObservedService,
    ObservedState,
)
from tests.plan.perfect_apply import observed_after_apply


def test_independent_actions_come_in_resource_order_not_alphabetically() -> None:
    """No edge ties these actions, so only the documented rank orders them: dependencies,
    services, env, source, deployments, domains, then deletes."""
    desired = DesiredState(
        project="shop",
        source=DesiredSource(digest="odsrc1:abc"),
        dependencies={"zdb": DesiredDependency(type="redis")},
        services={
            "b": DesiredService(type="web", port=1, subdomain="bee"),
            "x": DesiredService(type="web", port=2, env={"A": DesiredValue.literal("1")}),
            "y": DesiredService(type="web", port=3, replicas=2),
        },
    )
    live = observed_after_apply(desired.model_copy(update={"dependencies": {}}))
    services = dict(live.services)
    services["b"] = services["b"].model_copy(update={"domain": None})
    services["x"] = services["x"].model_copy(update={"env": {"A": SecretStr("0")}})
    services["y"] = services["y"].model_copy(update={"replicas": 1})
    services["a0"] = ObservedService(id="s-a0", type="web", environment="production")
    live = live.model_copy(
        update={
            "services": services,
            "dependencies": {"a1": ObservedDependency(id="d-a1", type="redis")},
        }
    )
    newer = desired.model_copy(update={"source": DesiredSource(digest="odsrc1:new")})
    plan = make_plan(newer, live, PlanOptions(prune=True, allow_data_loss=True))
    assert plan.addresses() == (
        "dependency.zdb",
        "service.y",
        "service.x.env",
        "project.source",
        "service.b.deployment",
        "service.x.deployment",
        "service.y.deployment",
        "service.b.domain",
        "service.a0",
        "dependency.a1",
    )


@pytest.mark.parametrize(
    ("address", "kind", "key"),
    [
        ("project", ActionKind.CREATE, "0:project"),
        ("dependency.db", ActionKind.CREATE, "1:dependency.db"),
        ("service.web", ActionKind.UPDATE, "2:service.web"),
        ("service.web.env", ActionKind.UPDATE, "3:service.web.env"),
        ("project.source", ActionKind.BIND_SOURCE, "4:project.source"),
        ("service.web.deployment", ActionKind.DEPLOY, "5:service.web.deployment"),
        ("service.web.domain", ActionKind.RENAME_DOMAIN, "6:service.web.domain"),
        ("dependency.db", ActionKind.DELETE, "7:dependency.db"),
        ("project", ActionKind.DELETE, "7:project"),
    ],
)
def test_sort_key(address: str, kind: ActionKind, key: str) -> None:
    assert sort_key(address, kind) == key


def test_addresses() -> None:
    assert addr.canonical("service.web.source") == "project.source"
    assert addr.canonical("service.web.env") == "service.web.env"
    assert addr.canonical("dependency.source") == "dependency.source"
    assert addr.matches("service.web.env", "service.web")
    assert addr.matches("service.web", "service.web")
    assert not addr.matches("service.webx", "service.web")
    assert addr.matches("project.source", "service.web.source")
    assert addr.service_name("service.web.env") == "web"
    assert addr.service_name("dependency.db") is None
    assert addr.is_valid("service.web.domain") and not addr.is_valid("service.web.port")


def test_stamp_text() -> None:
    stamp = Stamp("odsrc1:p", "odsrc1:s", "run-1", "c1:abcd")
    assert format_stamp(stamp) == (
        "odplan deploy [odplan:v2 p=odsrc1:p s=odsrc1:s c=c1:abcd r=run-1]"
    )
    assert format_stamp(Stamp("p", "s"), "  ") == "[odplan:v2 p=p s=s]"
    assert parse_stamp(format_stamp(stamp, "deploy of web")) == stamp
    with pytest.raises(ValueError, match="run"):
        format_stamp(Stamp("p", "s", "two words"))


def test_the_summary_line_with_waits_keeps_its_head() -> None:
    assert PlanSummary(1, 0, 0, 1, wait=1).line() == (
        "Plan: 1 to create, 0 to update, 0 to destroy, 1 to deploy, 1 to wait for."
    )


def test_a_settings_change_shows_both_values_with_defaults_for_empty_live_fields() -> None:
    desired = DesiredState(
        project="shop",
        source=DesiredSource(digest="odsrc1:abc"),
        services={
            "web": DesiredService(type="web", port=8080, replicas=2, after=("api",)),
            "api": DesiredService(type="web", port=8081),
        },
    )
    live = observed_after_apply(desired)
    web = live.services["web"].model_copy(update={"replicas": None, "dependencies": ()})
    plan = make_plan(desired, live.model_copy(update={"services": {**live.services, "web": web}}))
    action = plan.action("service.web")
    assert action is not None
    assert [(c.path, c.before, c.after) for c in action.changes] == [
        ("dependencies", [], ["api"]),
        ("replicas", 1, 2),
    ]


def test_normal_form_of_settings() -> None:
    assert normal_setting("source_path", "") == "."
    assert normal_setting("source_path", "./api/") == "api"
    assert normal_setting("source_path", "../out") == "../out"
    assert normal_setting("dependencies", ("b", "a", "b")) == ["a", "b"]
    assert normal_setting("cpu_limit", "1") == 1000
    assert normal_setting("memory_limit", "1Ki") == 1024
    assert normal_setting("cpu_limit", " big ") == "big"
    assert normal_setting("auto_scaling", True) is True
    assert normal_setting("replicas", None) == 1
    assert normal_setting("port", "") is None


DB_ENV = {"db": {"DATABASE_URL": SecretStr("postgres://u:p@h/db")}}


def test_resolve_variables_for_apply() -> None:
    explicit = {
        "MODE": DesiredValue.literal("prod"),
        "URL": DesiredValue.dependency("db", "DATABASE_URL"),
    }
    live = {"KEEP": SecretStr("1"), "MODE": SecretStr("old")}
    replaced = resolve_variables(explicit, ("db",), DB_ENV, live, "replace")
    assert replaced == {
        "DATABASE_URL": "postgres://u:p@h/db",
        "MODE": "prod",
        "URL": "postgres://u:p@h/db",
    }
    merged = resolve_variables(explicit, ("db",), DB_ENV, live, "merge")
    assert merged == {**replaced, "KEEP": "1"}


def test_resolve_variables_names_what_is_not_known_yet() -> None:
    with pytest.raises(KeyError, match=r"dependency\.cache has no known env_vars yet"):
        resolve_variables({}, ("db", "cache"), DB_ENV, {}, "replace")
    unknown = {"URL": DesiredValue.dependency("db", "NOPE")}
    with pytest.raises(KeyError, match="URL: a referenced dependency variable is not known yet"):
        resolve_variables(unknown, (), DB_ENV, {}, "replace")


def test_refresh_only_drift_drops_edges_to_actions_it_leaves_out() -> None:
    desired = DesiredState(
        project="shop",
        source=DesiredSource(digest="odsrc1:abc"),
        services={"web": DesiredService(type="web", port=8080)},
    )
    live = observed_after_apply(desired)
    web = live.services["web"]
    good = web.deployments[0]
    failed = ObservedDeployment(
        id="dep-failed",
        status="failed",
        created_at="2027-01-01T00:00:00Z",
        description=format_stamp(Stamp("odsrc1:other", "odsrc1:abc")),
    )
    web = web.model_copy(update={"deployments": (good, failed)})
    live = live.model_copy(update={"services": {"web": web}})
    normal = make_plan(desired, live)
    deploy = normal.action("service.web.deployment")
    assert deploy is not None and "project.source" in deploy.depends_on
    drift = make_plan(desired, live, PlanOptions(refresh_only=True)).drift
    assert [(a.address, a.depends_on) for a in drift] == [("service.web.deployment", ())]


def test_observed_state_without_a_project_is_empty() -> None:
    assert ObservedState.empty() == ObservedState()
