"""The pure day-two decisions: observed → manifest, the redeploy stamp, the rollback target,
and log selection. No network."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from opendeploy_plan.gateway import Dependency, Deployment, Project, Service, ServiceDomain
from opendeploy_plan.ops.adopt import LiveProject, LiveService, adopt, subdomain_of
from opendeploy_plan.ops.deployments import in_flight, redeploy_stamp, rollback_target
from opendeploy_plan.ops.logs import format_row, parse_since, select
from opendeploy_plan.plan import Stamp, format_stamp

DB_URL = "postgresql://u:p4ssw0rd-long-enough@db:5432/app"


def service(name: str, **fields: object) -> Service:
    return Service.model_validate({"id": f"id-{name}", "name": name, "type": "web", **fields})


def live(*services: LiveService, deps: tuple[Dependency, ...] = (), **project: str) -> LiveProject:
    return LiveProject(
        project=Project.model_validate({"id": "p1", "name": "shop", **project}),
        environment="production",
        dependencies=deps,
        services=services,
    )


def postgres(display_name: str = "db") -> Dependency:
    return Dependency.model_validate(
        {
            "id": "d1",
            "type": "postgres",
            "display_name": display_name,
            "env_vars": {"DATABASE_URL": DB_URL, "POSTGRES_PORT": "5432"},
        }
    )


def test_a_partial_dependency_match_becomes_a_reference_not_a_secret() -> None:
    web = LiveService(service("web"), {"DB": DB_URL, "POSTGRES_PORT": "5432", "TOKEN": "x"})

    adoption = adopt(live(web, deps=(postgres(),)))

    svc = adoption.manifest.services["web"]
    assert svc.uses == []  # not every variable of db is there
    assert svc.env == {
        "DB": "${{ dependencies.db.DATABASE_URL }}",  # same long value under another name
        "POSTGRES_PORT": "${{ dependencies.db.POSTGRES_PORT }}",
        "TOKEN": "${{ secrets.TOKEN }}",
    }
    assert [s.name for s in adoption.secrets] == ["TOKEN"]


def test_short_values_under_other_names_are_not_taken_for_references() -> None:
    web = LiveService(service("web"), {"PORT": "5432"})

    adoption = adopt(live(web, deps=(postgres(),)))

    assert adoption.manifest.services["web"].env == {"PORT": "5432"}  # a literal, no reference


def test_same_key_with_different_values_gets_per_service_secret_names() -> None:
    web = LiveService(service("web"), {"API_KEY": "a", "SHARED_TOKEN": "same"})
    worker = LiveService(service("worker", type="worker"), {"API_KEY": "b", "SHARED_TOKEN": "same"})

    adoption = adopt(live(web, worker))

    assert adoption.manifest.services["web"].env["API_KEY"] == "${{ secrets.WEB_API_KEY }}"
    assert adoption.manifest.services["worker"].env["API_KEY"] == "${{ secrets.WORKER_API_KEY }}"
    shared = next(s for s in adoption.secrets if s.name == "SHARED_TOKEN")
    assert shared.places == ("service.web.env.SHARED_TOKEN", "service.worker.env.SHARED_TOKEN")


def test_what_cannot_be_named_is_left_out_with_a_note() -> None:
    web = LiveService(
        service("web", dependencies=["ghost"]),
        {"OK": "1", "bad.key": "x"},
        ServiceDomain(id="dom", domain="https://weird.example.com"),
    )

    adoption = adopt(live(web, deps=(postgres("My Database"),)))

    assert adoption.manifest.dependencies == {}
    assert adoption.manifest.services["web"].after == []
    assert adoption.manifest.services["web"].subdomain is None
    assert set(adoption.manifest.services["web"].env) == {"OK"}
    joined = "\n".join(adoption.notes)
    for expected in ("'My Database'", "'bad.key'", "'ghost'", "no usable prefix"):
        assert expected in joined


def test_settings_and_git_source_are_carried_over() -> None:
    web = LiveService(
        service(
            "web",
            port=3000,
            build_command="npm run build",
            dockerfile_path="Dockerfile",
            health_check_path="/healthz",
            replicas=2,
            auto_scaling=True,
            cpu_limit="2",
        ),
        {},
        ServiceDomain(id="dom", domain="acme-shop.opendeploy.run"),
    )

    adoption = adopt(live(web, repo_url="https://github.com/acme/shop", branch="main"))

    svc = adoption.manifest.services["web"]
    assert svc.source.model_dump() == {  # type: ignore[union-attr]
        "git": "https://github.com/acme/shop",
        "branch": "main",
        "token_env": None,
    }
    assert (svc.port, svc.build_command, svc.dockerfile) == (3000, "npm run build", "Dockerfile")
    assert (svc.replicas, svc.auto_scaling, svc.health_check_path) == (2, True, "/healthz")
    assert svc.resources is not None and svc.resources.cpu is not None
    assert svc.resources.cpu.limit == "2"
    assert svc.subdomain == "acme-shop"


@pytest.mark.parametrize(
    ("domain", "environment", "prefix"),
    [
        ("acme.opendeploy.run", "production", "acme"),
        ("https://acme.dev.opendeploy.run/", "staging", "acme"),
        ("acme.dev.opendeploy.run", "production", None),
        ("a.b.opendeploy.run", "production", None),
        ("api.opendeploy.run", "production", None),  # reserved
    ],
)
def test_subdomain_of(domain: str, environment: str, prefix: str | None) -> None:
    assert subdomain_of(domain, environment) == prefix


def deployment(
    id: str, when: int, status: str = "success", service: str = "s1", description: str = ""
) -> Deployment:
    return Deployment(
        id=id,
        status=status,
        service_id=service,
        description=description,
        created_at=f"2026-01-01T00:00:{when:02d}Z",
    )


def stamp(project: str, service: str) -> str:
    return format_stamp(Stamp(project, service, run_id="r0"), "odplan deploy of web")


def test_redeploy_stamp_keeps_the_bound_archive_and_the_service_digest() -> None:
    history = [
        deployment("a", 1, description=stamp("sha256:p1", "sha256:s1")),
        deployment("b", 2, service="s2", description=stamp("sha256:p2", "sha256:t2")),
    ]

    assert redeploy_stamp(history, "s1", "run9") == Stamp("sha256:p2", "sha256:s1", run_id="run9")
    # A failed deployment of this service from the bound archive knows the exact digest.
    failed = deployment("c", 3, status="failed", description=stamp("sha256:p2", "sha256:s9"))
    assert redeploy_stamp([*history, failed], "s1", "r") == Stamp("sha256:p2", "sha256:s9", "r")


def test_redeploy_stamp_is_none_when_the_source_is_unknown() -> None:
    stamped = deployment("a", 1, description=stamp("sha256:p1", "sha256:s1"))
    by_the_skill = deployment("b", 2, service="s2")

    assert redeploy_stamp([], "s1", "r") is None
    assert redeploy_stamp([stamped, by_the_skill], "s1", "r") is None
    assert redeploy_stamp([deployment("c", 1)], "s1", "r") is None


def test_rollback_target_skips_the_running_deployment_and_its_own_target() -> None:
    older, old = deployment("older", 1), deployment("old", 2)
    rollback = Deployment.model_validate(
        {**deployment("rb", 3).model_dump(), "rollback_from_id": "old"}
    )

    assert rollback_target([older, old]) is older  # `old` is the one running
    # `rb` runs what `old` built, so going "back" to `old` would change nothing.
    assert rollback_target([older, old, rollback]) is older
    assert rollback_target([old, rollback]) is None
    assert rollback_target([old]) is None


def test_in_flight_is_the_newest_non_terminal() -> None:
    assert in_flight([deployment("a", 1), deployment("b", 2, status="building")]).id == "b"  # type: ignore[union-attr]
    assert in_flight([deployment("a", 1, status="failed")]) is None


def test_parse_since() -> None:
    now = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
    assert parse_since("10m", now) == "2026-11-29T11:50:00Z"
    assert parse_since("1d", now) == "2026-11-28T12:00:00Z"
    assert parse_since("2026-11-29T10:00:00+02:00", now) == "2026-11-29T08:00:00Z"
    with pytest.raises(ValueError, match="neither a duration"):
        parse_since("yesterday", now)


def test_select_and_format() -> None:
    rows = [
        {"timestamp": "2026-01-01T00:00:01Z", "level": "info", "message": "one"},
        {"timestamp": "2026-01-01T00:00:02Z", "level": "warn", "phase": "build", "message": "two"},
        "plain text",
    ]
    assert select(rows, since="2026-01-01T00:00:01Z") == rows[1:]
    assert select(rows, tail=1) == ["plain text"]
    assert select(rows, tail=0) == []
    assert format_row(rows[1]) == "2026-01-01T00:00:02Z warn  [build] two"
    assert format_row({"x": 1}) == '{"x": 1}'


def test_a_database_with_an_action_planned_shows_changes_pending() -> None:
    """`odplan status`'s DATABASE table: the sync of a database is read from the plan's action
    for `dependency.KEY` (here a type change to replace it), not assumed in sync."""
    from opendeploy_plan.ops.status import database_rows
    from opendeploy_plan.plan import make_plan
    from tests.plan.golden import CASES_DIR, load_case

    case = load_case(CASES_DIR / "17_dependency_type_change_with_allow_data_loss.json")
    plan = make_plan(case.desired, case.observed, case.options)
    managed = {key: dep.type for key, dep in case.desired.dependencies.items()}

    (row,) = database_rows(case.observed, plan, managed)
    assert (row.name, row.sync) == ("db", "changes pending")
    # Without a plan, or without a manifest, its sync is unknown; not in the manifest, unmanaged.
    assert database_rows(case.observed, None, managed)[0].sync == "unknown"
    assert database_rows(case.observed, plan, None)[0].sync == "unknown"
    assert database_rows(case.observed, plan, {})[0].sync == "unmanaged"


def test_a_database_without_an_action_is_in_sync_beside_one_with_an_action() -> None:
    from opendeploy_plan.ops.status import database_rows
    from opendeploy_plan.plan import make_plan
    from tests.plan.golden import CASES_DIR, load_case

    case = load_case(CASES_DIR / "40_unmanaged_dependency_pruned_with_allow_data_loss.json")
    plan = make_plan(case.desired, case.observed, case.options)
    managed = {"db": "postgres", "cache": "redis"}  # both managed: cache's delete is pending

    rows = {row.name: row.sync for row in database_rows(case.observed, plan, managed)}
    assert rows == {"cache": "changes pending", "db": "in sync"}
