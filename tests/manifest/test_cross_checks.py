"""Rules that relate values to each other: overlay names, `after`, `uses`, references,
subdomains, source folders and unused dependencies, with their exact messages and positions."""

from __future__ import annotations

from pathlib import Path

from opendeploy_plan.manifest import load_manifest_bytes

BASE = "version: 1\nproject:\n  name: shop\n"


def long_forms(text: str, tmp_path: Path, *, check_sources: bool = False) -> list[str]:
    """Every diagnostic in its long form (position, path, summary and indented detail)."""
    result = load_manifest_bytes(
        (BASE + text).encode(), "m.yaml", tmp_path, check_sources=check_sources
    )
    return [d.format_long() for d in result.diagnostics]


# --- overlays --------------------------------------------------------------------------------


def test_every_unknown_name_in_an_overlay_is_reported_with_the_known_names(
    tmp_path: Path,
) -> None:
    text = (
        "services:\n  web: {}\n  api: {}\n"
        "environments:\n  staging:\n    services:\n"
        "      web: {port: 80}\n"  # known: must not stop the check of the names after it
        "      zzz: {}\n"
        "      wbe: {}\n"
    )
    assert long_forms(text, tmp_path) == [
        "m.yaml:11:7: error: environments.staging.services.zzz: unknown service 'zzz'; "
        "the base manifest's services: web, api\n"
        "    An overlay changes services of the base manifest; declare the service under the "
        "top-level `services` first.",
        "m.yaml:12:7: error: environments.staging.services.wbe: unknown service 'wbe'; "
        "did you mean 'web'?\n"
        "    An overlay changes services of the base manifest; declare the service under the "
        "top-level `services` first.",
    ]


def test_an_overlay_dependency_unknown_to_a_base_without_dependencies(tmp_path: Path) -> None:
    text = (
        "services:\n  web: {}\n"
        "environments:\n  staging:\n    dependencies:\n      cache: {type: redis}\n"
    )
    assert long_forms(text, tmp_path)[0] == (
        "m.yaml:9:7: error: environments.staging.dependencies.cache: unknown dependency "
        "'cache'; the base manifest's dependencies: none\n"
        "    An overlay changes dependencies of the base manifest; declare the dependency "
        "under the top-level `dependencies` first."
    )


# --- no services -----------------------------------------------------------------------------


def test_a_manifest_without_services_is_warned_at_its_services_key(tmp_path: Path) -> None:
    assert long_forms("services: {}\n", tmp_path) == [
        "m.yaml:4:11: warning: services: no services: only the project and its dependencies "
        "would be created"
    ]


# --- after -----------------------------------------------------------------------------------


def test_every_after_entry_is_checked_past_one_of_the_wrong_type(tmp_path: Path) -> None:
    text = "services:\n  web:\n    after: [1, nope, web]\n  api: {}\n"
    assert long_forms(text, tmp_path) == [
        "m.yaml:6:13: error: services.web.after[0]: must be a string (got integer 1)",
        "m.yaml:6:16: error: services.web.after[1]: unknown service 'nope'\n"
        "    `after` lists sibling services; databases go in `uses`.",
        "m.yaml:6:22: error: services.web.after[2]: service 'web' cannot come after itself",
    ]


CYCLE_DETAIL = "\n    Remove one of these `after` entries."


def test_a_cycle_is_named_once_from_its_smallest_service(tmp_path: Path) -> None:
    text = "services:\n  c:\n    after: [a]\n  a:\n    after: [b]\n  b:\n    after: [c]\n"
    assert long_forms(text, tmp_path) == [
        "m.yaml:8:12: error: services.a.after: services wait for each other in a cycle: "
        "a → b → c → a" + CYCLE_DETAIL
    ]


def test_a_cycle_found_midway_is_rotated_to_its_smallest_service(tmp_path: Path) -> None:
    # The walk from `a` meets the loop at `c`; it is still reported from `b`.
    text = "services:\n  a:\n    after: [c]\n  c:\n    after: [b]\n  b:\n    after: [c]\n"
    assert long_forms(text, tmp_path) == [
        "m.yaml:10:12: error: services.b.after: services wait for each other in a cycle: "
        "b → c → b" + CYCLE_DETAIL
    ]


def test_the_walk_reports_the_loop_it_closes_not_every_loop_through_it(tmp_path: Path) -> None:
    # a → b → a and a → c → b → a: the walk closes only the first; removing an entry of it
    # and validating again shows the next, so the list never repeats a shared entry.
    text = "services:\n  a:\n    after: [b, c]\n  b:\n    after: [a]\n  c:\n    after: [b]\n"
    assert long_forms(text, tmp_path) == [
        "m.yaml:6:12: error: services.a.after: services wait for each other in a cycle: "
        "a → b → a" + CYCLE_DETAIL
    ]


# --- uses ------------------------------------------------------------------------------------


def test_every_uses_entry_is_checked_and_explained(tmp_path: Path) -> None:
    text = (
        "services:\n  web:\n    uses: [3, api, dbb, cache]\n  api: {}\n"
        "dependencies:\n  db: {type: postgres}\n"
    )
    assert long_forms(text, tmp_path) == [
        "m.yaml:6:12: error: services.web.uses[0]: must be a string (got integer 3)",
        "m.yaml:6:15: error: services.web.uses[1]: unknown dependency 'api'\n"
        "    'api' is a service: list services in `after`.",
        "m.yaml:6:20: error: services.web.uses[2]: unknown dependency 'dbb'; did you mean 'db'?\n"
        "    Declare it under `dependencies`.",
        "m.yaml:6:25: error: services.web.uses[3]: unknown dependency 'cache'\n"
        "    Declare it under `dependencies`.",
        "m.yaml:9:3: warning: dependencies.db: dependency 'db' is not used by any service\n"
        "    Add it to a service's `uses` to inject its connection variables.",
    ]


# --- env references and plain-text secrets ---------------------------------------------------


def test_env_references_are_checked_past_values_the_model_refuses(tmp_path: Path) -> None:
    text = (
        "services:\n  web:\n    env:\n      A: [1]\n      B: ${{ bad\n"
        "      C: ${{ dependencies.nope.X }}\n"
    )
    assert long_forms(text, tmp_path) == [
        "m.yaml:7:10: error: services.web.env.A: must be a string (got a list)",
        "m.yaml:8:10: error: services.web.env.B: unterminated '${{' (missing '}}')",
        "m.yaml:9:10: error: services.web.env.C: ${{ dependencies.nope.X }} refers to unknown "
        "dependency 'nope'",
    ]


def test_a_plain_text_secret_is_warned_with_where_secrets_belong(tmp_path: Path) -> None:
    text = "services:\n  web:\n    build_env:\n      NPM_TOKEN: abc\n"
    assert long_forms(text, tmp_path) == [
        "m.yaml:7:18: warning: services.web.build_env.NPM_TOKEN: NPM_TOKEN looks like a secret "
        "written in plain text; use ${{ secrets.NPM_TOKEN }}\n"
        "    The manifest is committed and reviewed; secrets belong in the environment or an "
        "untracked .env file."
    ]


def test_the_plain_text_secret_warning_ignores_case_and_spares_plain_names(
    tmp_path: Path,
) -> None:
    text = (
        "services:\n  web:\n    env:\n      db_password: hunter2\n      Api_Key: abc\n"
        "      session_secret: s\n      LOG_LEVEL: info\n      KEYBOARD: qwerty\n"
        "      GH_TOKEN: ${{ secrets.GH_TOKEN }}\n      EMPTY_TOKEN: ''\n"
    )
    warned = [line.split(": ")[2] for line in long_forms(text, tmp_path) if ": warning: " in line]
    assert warned == [
        "services.web.env.db_password",
        "services.web.env.Api_Key",
        "services.web.env.session_secret",
    ]


# --- subdomains ------------------------------------------------------------------------------


def test_duplicate_subdomains_are_found_past_one_of_the_wrong_type(tmp_path: Path) -> None:
    text = (
        "services:\n  a:\n    subdomain: 5\n  b:\n    subdomain: storefront\n"
        "  c:\n    subdomain: storefront\n"
    )
    assert long_forms(text, tmp_path) == [
        "m.yaml:6:16: error: services.a.subdomain: must be a string (got integer 5)",
        "m.yaml:10:16: error: services.c.subdomain: subdomain 'storefront' is already claimed "
        "by service 'b'",
    ]


def test_every_repeat_of_a_subdomain_is_an_error(tmp_path: Path) -> None:
    text = (
        "services:\n  a:\n    subdomain: storefront\n  b:\n    subdomain: storefront\n"
        "  c:\n    subdomain: storefront\n"
    )
    assert long_forms(text, tmp_path) == [
        "m.yaml:8:16: error: services.b.subdomain: subdomain 'storefront' is already claimed "
        "by service 'a'",
        "m.yaml:10:16: error: services.c.subdomain: subdomain 'storefront' is already claimed "
        "by service 'a'",
    ]


def test_a_subdomain_that_gets_no_traffic_is_a_warning(tmp_path: Path) -> None:
    text = (
        "services:\n  jobs:\n    type: worker\n    subdomain: jobs-box\n"
        "  admin:\n    internal_only: true\n    subdomain: admin-box\n"
        "  site:\n    type: static\n    subdomain: site-box\n"
        "  web:\n    subdomain: web-box\n"
    )
    assert long_forms(text, tmp_path) == [
        "m.yaml:7:16: warning: services.jobs.subdomain: a worker service gets no domain; "
        "the subdomain is ignored",
        "m.yaml:10:16: warning: services.admin.subdomain: internal_only blocks external "
        "traffic; the subdomain would not be reachable",
    ]


# --- source folders --------------------------------------------------------------------------


def test_a_missing_source_folder_is_an_error_naming_where_it_was_looked_for(
    tmp_path: Path,
) -> None:
    (tmp_path / "api").mkdir()
    text = (
        "services:\n  abs:\n    source: /srv/app\n  api:\n    source: api\n"
        "  web:\n    source: web\n"
    )
    assert long_forms(text, tmp_path, check_sources=True) == [
        "m.yaml:6:13: error: services.abs.source: must be a path relative to the manifest, "
        "not an absolute path (got '/srv/app')",
        "m.yaml:10:13: error: services.web.source: folder 'web' does not exist next to the "
        f"manifest\n    Looked for {tmp_path.resolve() / 'web'}.",
    ]


def test_the_default_source_is_the_manifest_folder_which_must_exist(tmp_path: Path) -> None:
    gone = tmp_path / "gone"
    result = load_manifest_bytes(
        (BASE + "services:\n  web: {}\n").encode(), "m.yaml", gone, check_sources=True
    )
    assert [d.format_long() for d in result.diagnostics] == [
        f"m.yaml:5:8: error: services.web.source: folder '.' does not exist next to the "
        f"manifest\n    Looked for {gone.resolve()}."
    ]


def test_a_source_symlinked_out_of_the_manifest_folder_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "outside").mkdir()
    app = tmp_path / "app"
    app.mkdir()
    (app / "web").symlink_to(tmp_path / "outside")
    result = load_manifest_bytes(
        (BASE + "services:\n  web:\n    source: web\n").encode(), "m.yaml", app
    )
    assert [d.format_long() for d in result.diagnostics] == [
        "m.yaml:6:13: error: services.web.source: 'web' leads outside the manifest's folder "
        "(symlink)"
    ]


def test_sources_nested_at_any_depth_inside_the_folder_are_fine(tmp_path: Path) -> None:
    (tmp_path / "apps" / "web" / "src").mkdir(parents=True)
    (tmp_path / "api").mkdir()
    (tmp_path / "apps" / "linked").symlink_to(tmp_path / "api")
    text = (
        "services:\n  web:\n    source: apps/web\n  deep:\n    source: apps/web/src\n"
        "  api:\n    source: api\n  linked:\n    source: apps/linked\n"
    )
    assert long_forms(text, tmp_path, check_sources=True) == []
