"""`make_destroy_plan`: what `odplan destroy` deletes, and what it keeps without
--allow-data-loss (pure unit tests; tests/e2e/test_destroy.py runs it against a gateway)."""

from __future__ import annotations

from opendeploy_plan.plan import (
    ActionKind,
    ActionReason,
    ChangeKind,
    DesiredDependency,
    DesiredService,
    DesiredSource,
    DesiredState,
    PlanOptions,
)
from opendeploy_plan.plan.destroy import make_destroy_plan
from opendeploy_plan.state.model import ObservedService, ObservedState
from tests.plan.perfect_apply import observed_after_apply

DESIRED = DesiredState(
    project="shop",
    source=DesiredSource(digest="odsrc1:abc"),
    dependencies={"db": DesiredDependency(type="postgres")},
    services={
        "web": DesiredService(type="web", port=8080, uses=("db",), subdomain="shop"),
        "api": DesiredService(type="web", port=8081),
    },
)
SALT = b"s" * 16


def _live(**extra_services: ObservedService) -> ObservedState:
    live = observed_after_apply(DESIRED)
    return live.model_copy(update={"services": {**live.services, **extra_services}})


def test_nothing_live_nothing_to_destroy() -> None:
    plan = make_destroy_plan(DESIRED, ObservedState.empty(), PlanOptions(salt=SALT))
    assert plan.actions == () and plan.notes == ()
    assert plan.project == "shop" and plan.environment == "production"
    assert plan.source_digest == "odsrc1:abc"


def test_without_allow_data_loss_only_the_services_go() -> None:
    live = _live()
    plan = make_destroy_plan(DESIRED, live, PlanOptions(salt=SALT))
    assert plan.addresses() == ("service.api", "service.web")
    for action in plan.actions:
        assert action.kind is ActionKind.DELETE and action.reason is ActionReason.DESTROY
        assert action.depends_on == ()
    web = plan.action("service.web")
    assert web is not None
    assert [(c.path, c.kind, c.before, c.after) for c in web.changes] == [
        ("type", ChangeKind.REMOVE, "web", None),
        ("domain", ChangeKind.REMOVE, "shop.opendeploy.run", None),
    ]
    assert set(plan.graph.nodes) == {"service.api", "service.web"}
    assert [(n.address, n.message) for n in plan.notes] == [
        (
            "project",
            "kept: the project, dependency.db (pass --allow-data-loss to delete the project "
            "and its databases)",
        )
    ]
    assert plan.secret_hashes == {}
    assert plan.fingerprint.startswith("hmac-sha256:")
    assert plan.changes_since(live) == []


def test_unmanaged_services_are_not_deleted_one_by_one() -> None:
    stray = ObservedService(id="s-x", type="worker", environment="production")
    plan = make_destroy_plan(DESIRED, _live(stray=stray), PlanOptions(salt=SALT))
    assert "service.stray" not in plan.addresses()


def test_with_allow_data_loss_the_project_goes_after_the_services() -> None:
    stray = ObservedService(id="s-x", type="worker", environment="production")
    plan = make_destroy_plan(
        DESIRED, _live(stray=stray), PlanOptions(allow_data_loss=True, salt=SALT)
    )
    # Each database is its own line (issue 16 item 8), between the services and the project.
    assert plan.addresses() == ("service.api", "service.web", "dependency.db", "project")
    db = plan.action("dependency.db")
    assert db is not None and db.kind is ActionKind.DELETE
    assert [(c.path, c.before) for c in db.changes] == [("type", "postgres")]
    project = plan.action("project")
    assert project is not None and project.kind is ActionKind.DELETE
    assert project.depends_on == ("service.api", "service.web", "dependency.db")
    assert [(c.path, c.before) for c in project.changes] == [
        ("name", "shop"),
        ("service.stray", "unmanaged"),
    ]
    assert all(c.kind is ChangeKind.REMOVE and c.after is None for c in project.changes)
    assert set(plan.graph.edges) == {
        ("service.api", "dependency.db"),
        ("service.web", "dependency.db"),
        ("service.api", "project"),
        ("service.web", "project"),
        ("dependency.db", "project"),
    }
    assert [n.message for n in plan.notes] == [
        "deleting the project also deletes services the manifest does not manage: stray"
    ]


def test_with_allow_data_loss_and_nothing_unmanaged_there_is_no_note() -> None:
    plan = make_destroy_plan(DESIRED, _live(), PlanOptions(allow_data_loss=True, salt=SALT))
    assert plan.notes == ()


def test_a_project_shared_with_another_environment_is_kept_and_its_databases_go() -> None:
    live = _live()
    assert live.project is not None
    shared = live.project.model_copy(update={"other_environment_rows": ("service.web (staging)",)})
    plan = make_destroy_plan(
        DESIRED,
        live.model_copy(update={"project": shared}),
        PlanOptions(allow_data_loss=True, salt=SALT),
    )
    assert plan.addresses() == ("service.api", "service.web", "dependency.db")
    db = plan.action("dependency.db")
    assert db is not None and db.kind is ActionKind.DELETE
    assert db.depends_on == ("service.api", "service.web")
    assert [(c.path, c.kind, c.before, c.after) for c in db.changes] == [
        ("type", ChangeKind.REMOVE, "postgres", None)
    ]
    assert set(plan.graph.edges) == {
        ("service.api", "dependency.db"),
        ("service.web", "dependency.db"),
    }
    assert [(n.address, n.message) for n in plan.notes] == [
        ("project", "kept: the project, which also holds service.web (staging)")
    ]
