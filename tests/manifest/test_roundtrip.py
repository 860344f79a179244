"""Property: any manifest the models accept survives dump → load unchanged."""

from __future__ import annotations

import string
from pathlib import Path

from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from opendeploy_plan.manifest import Manifest, dump_manifest, load_manifest_bytes

_LABEL = st.from_regex(r"\A[a-z0-9](?:[a-z0-9-]{0,10}[a-z0-9])?\Z")
_VAR = st.from_regex(r"\A[A-Za-z_][A-Za-z0-9_]{0,15}\Z")
# Any text YAML can carry (no surrogates), including what YAML would misread unquoted.
_TEXT = st.one_of(
    st.text(st.characters(exclude_categories=["Cs"]), max_size=40),
    st.sampled_from(
        [
            "yes",
            "no",
            "on",
            "null",
            "~",
            "0x1F",
            "1e3",
            "08",
            "2024-01-01",
            " x ",
            "-",
            "'",
            "#",
            ": ",
        ]
    ),
)
_VALUE = st.one_of(
    _TEXT,
    st.builds(lambda n: f"${{{{ secrets.{n} }}}}", _VAR),
    st.builds(
        lambda a, b: f"pre-${{{{ secrets.{a} }}}}-{b}",
        _VAR,
        st.text(string.ascii_letters, max_size=5),
    ),
)
_QUANTITY_CPU = st.sampled_from(["100m", "250m", "500m", "1", "1.5", "2"])
_QUANTITY_MEM = st.sampled_from(["64Mi", "128Mi", "512Mi", "1Gi", "2Gi", "1G"])


@st.composite
def _resources(draw: st.DrawFn) -> dict[str, object]:
    resources: dict[str, object] = {}
    if draw(st.booleans()):
        resources["cpu"] = {"request": draw(_QUANTITY_CPU), "limit": draw(_QUANTITY_CPU)}
    if draw(st.booleans()):
        resources["memory"] = {"request": draw(_QUANTITY_MEM), "limit": draw(_QUANTITY_MEM)}
    return resources


_SERVICE = st.fixed_dictionaries(
    {},
    optional={
        "type": st.sampled_from(["web", "worker", "cron", "static"]),
        "source": st.one_of(
            st.just("."),
            st.builds(
                lambda branch: {"git": "https://example.com/a/b.git", "branch": branch},
                st.text(string.ascii_letters, min_size=1, max_size=8),
            ),
        ),
        "language": _TEXT,
        "framework": _TEXT,
        "port": st.integers(1, 65535),
        "build_command": _TEXT,
        "health_check_path": st.builds(
            lambda t: "/" + t, st.text(string.ascii_letters, max_size=8)
        ),
        "resources": _resources(),
        "replicas": st.integers(1, 20),
        "auto_scaling": st.booleans(),
        "internal_only": st.booleans(),
        "env": st.dictionaries(_VAR, _VALUE, max_size=5),
        "build_env": st.dictionaries(_VAR, _VALUE, max_size=3),
        "env_files": st.lists(st.sampled_from([".env", ".env.ci", "config/app.env"]), max_size=3),
        "env_policy": st.sampled_from(["replace", "merge"]),
    },
)

_MANIFEST = st.fixed_dictionaries(
    {
        "version": st.just(1),
        "project": st.fixed_dictionaries(
            {"name": _LABEL},
            optional={"region": st.sampled_from(["auto", "eu-1", "3f1c2a"]), "description": _TEXT},
        ),
    },
    optional={
        "environment": st.sampled_from(["production", "staging"]),
        "dependencies": st.dictionaries(
            _LABEL,
            st.fixed_dictionaries(
                {"type": st.sampled_from(["postgres", "mysql", "mongodb", "redis", "clickhouse"])},
                optional={"template": _TEXT, "database_name": st.from_regex(r"\A[a-z_]{1,10}\Z")},
            ),
            max_size=3,
        ),
        "services": st.dictionaries(_LABEL, _SERVICE, max_size=3),
    },
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_MANIFEST)
# Found by this test: PyYAML wrote NEL / LINE SEPARATOR raw and reading folded them to spaces.
@example({"version": 1, "project": {"name": "a"}, "services": {"w": {"env": {"A": "\x85"}}}})
@example({"version": 1, "project": {"name": "a", "description": "x\u2028y é"}})
def test_accepted_manifests_survive_dump_and_load(raw: dict[str, object]) -> None:
    try:
        manifest = Manifest.model_validate(raw)
    except ValidationError:
        assume(False)
        return
    text = dump_manifest(manifest, schema_url="schemas/opendeploy.schema.json")
    here = Path(__file__).parent  # any existing folder: sources are "." or git
    result = load_manifest_bytes(text.encode("utf-8"), "opendeploy.yaml", here)
    assert result.errors == [], text + "\n" + "\n".join(d.format() for d in result.errors)
    assert result.manifest == manifest, text
