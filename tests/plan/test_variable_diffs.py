"""Variable diffs, exactly: every branch of `diff_variables`/`wanted_variables`, the text a
secret is hashed from, the combined fingerprint, cycle reports and a targeted source bind."""

from __future__ import annotations

from pydantic import SecretStr

from opendeploy_plan.plan import (
    ChangeKind,
    DesiredService,
    DesiredSource,
    DesiredState,
    DesiredValue,
    Mask,
    PlanOptions,
    SecretPart,
    make_plan,
)
from opendeploy_plan.plan.diff import WantedValue, diff_variables, wanted_variables
from opendeploy_plan.plan.fingerprint import combine, keyed_digest
from opendeploy_plan.plan.graph import link
from opendeploy_plan.state.model import ObservedState
from tests.plan.perfect_apply import observed_after_apply


def _rows(changes: list) -> list[tuple]:  # type: ignore[type-arg]
    return [(c.path, c.kind, c.before, c.after, c.note) for c in changes]


def test_every_branch_of_a_variable_diff() -> None:
    wanted = {
        "NEW": WantedValue("n", "n"),
        "SAME": WantedValue("s", "s"),
        "EDITED": WantedValue("e2", "e2"),
        "LATER": WantedValue(None, Mask.UNKNOWN),
    }
    live = {
        "SAME": SecretStr("s"),
        "EDITED": SecretStr("e1"),
        "LATER": SecretStr("x"),
        "DB_URL": SecretStr("old"),
        "STALE": SecretStr("z"),
    }
    changes = diff_variables("env", wanted, ["cache"], live, "replace", {"DB_URL": "db"})
    assert _rows(changes) == [
        ("env.EDITED", ChangeKind.CHANGE, Mask.SENSITIVE, "e2", None),
        ("env.LATER", ChangeKind.CHANGE, Mask.SENSITIVE, Mask.UNKNOWN, None),
        ("env.NEW", ChangeKind.ADD, None, "n", None),
        (
            "env.DB_URL",
            ChangeKind.CHANGE,
            Mask.SENSITIVE,
            Mask.UNKNOWN,
            "expected again from dependency.db",
        ),
        (
            "env.STALE",
            ChangeKind.REMOVE,
            Mask.SENSITIVE,
            None,
            "not in the manifest: removed (env_policy: replace)",
        ),
        (
            "env.${{ dependencies.cache.* }}",
            ChangeKind.ADD,
            None,
            Mask.UNKNOWN,
            "every variable dependency.cache provides",
        ),
    ]
    merged = diff_variables("build_env", wanted, [], live, "merge", {"DB_URL": "db"})
    assert [c.path for c in merged] == ["build_env.EDITED", "build_env.LATER", "build_env.NEW"]


def test_wanted_variables_layer_the_manifest_over_every_used_dependency() -> None:
    dependency_env = {
        "db": {"URL": SecretStr("pg"), "MODE": SecretStr("dep")},
        "cache": {"REDIS": SecretStr("r")},
    }
    explicit = {"MODE": DesiredValue.literal("mine"), "KEY": DesiredValue.secret("k", "v")}
    wanted, pending = wanted_variables(explicit, ("gone", "db", "cache"), dependency_env)
    assert pending == ["gone"]
    assert wanted == {
        "URL": WantedValue("pg", Mask.SENSITIVE),
        "MODE": WantedValue("mine", "mine"),
        "REDIS": WantedValue("r", Mask.SENSITIVE),
        "KEY": WantedValue("v", Mask.SENSITIVE),
    }


def test_the_text_a_secret_is_hashed_from() -> None:
    secret = SecretPart.model_validate({"kind": "secret", "name": "pw", "value": "p"})
    value = DesiredValue.template("u:", secret, "@", DesiredValue.dependency("db", "HOST").parts[0])
    assert value.canonical_text() == "u:p@${{ dependencies.db.HOST }}"
    resolved = value.resolve({"db": {"HOST": SecretStr("h")}})
    assert resolved == "u:p@h"
    assert value.resolve({"db": {}}) is None


def test_the_combined_fingerprint() -> None:
    parts = {"b": "2", "a": "1"}
    assert combine(parts, b"k") == "hmac-sha256:" + keyed_digest(b"k", [["a", "1"], ["b", "2"]])


def test_a_cycle_is_reported_along_its_addresses() -> None:
    graph, cycle = link({"a": {"c"}, "b": {"a"}, "c": {"b"}, "d": set()})
    assert cycle is not None and sorted(cycle) == ["a", "b", "c"]
    assert list(graph.edges) == [] and set(graph.nodes) == {"a", "b", "c", "d"}
    desired = DesiredState(
        project="shop",
        source=DesiredSource(digest="odsrc1:abc"),
        services={
            "a": DesiredService(type="web", port=1, after=("b",)),
            "b": DesiredService(type="web", port=2, after=("a",)),
        },
    )
    plan = make_plan(desired, ObservedState.empty())
    summaries = [e.summary for e in plan.errors]
    assert any(s.startswith("the actions form a cycle: service.") for s in summaries)


def test_a_targeted_source_bind_is_kept_without_a_deploy() -> None:
    desired = DesiredState(
        project="shop",
        source=DesiredSource(digest="odsrc1:abc"),
        services={"web": DesiredService(type="web", port=8080)},
    )
    live = observed_after_apply(desired)
    newer = desired.model_copy(update={"source": DesiredSource(digest="odsrc1:new")})
    plan = make_plan(newer, live, PlanOptions(target=("project.source",)))
    assert plan.addresses() == ("project.source",)
    excluded = make_plan(newer, live, PlanOptions(exclude=("service.web.deployment",)))
    assert excluded.addresses() == ()
