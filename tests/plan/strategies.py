"""Hypothesis strategies for desired states the manifest engineer's validator would accept."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from opendeploy_plan import platform
from opendeploy_plan.plan import (
    DesiredDependency,
    DesiredService,
    DesiredSource,
    DesiredState,
    DesiredValue,
)

DEP_KEYS = ("db", "cache", "events")
SERVICE_NAMES = ("web", "api", "worker", "admin", "jobs")
ENV_KEYS = ("LOG_LEVEL", "API_KEY", "FEATURE", "DB_URL", "MODE")
digests = st.text("0123456789abcdef", min_size=8, max_size=8).map(lambda h: f"sha256:{h}")


@st.composite
def env_values(draw: st.DrawFn, uses: tuple[str, ...]) -> DesiredValue:
    choices = ["literal", "secret", "template"] + (["dependency"] if uses else [])
    kind = draw(st.sampled_from(choices))
    text = draw(st.text("abcdefgh123", min_size=1, max_size=6))
    if kind == "literal":
        return DesiredValue.literal(text)
    if kind == "secret":
        return DesiredValue.secret("s-" + text, "canary-" + text)
    if kind == "template":
        return DesiredValue.template("pre-", DesiredValue.secret("t", "canary-t" + text).parts[0])
    return DesiredValue.dependency(draw(st.sampled_from(uses)), "DATABASE_URL")


@st.composite
def desired_states(draw: st.DrawFn) -> DesiredState:
    environment = draw(st.sampled_from(platform.ENVIRONMENTS))
    dep_keys = draw(st.lists(st.sampled_from(DEP_KEYS), unique=True, max_size=3))
    dependencies = {
        k: DesiredDependency(type=draw(st.sampled_from(platform.DEPENDENCY_TYPES)))
        for k in dep_keys
    }
    names = draw(st.lists(st.sampled_from(SERVICE_NAMES), unique=True, min_size=1, max_size=4))
    services: dict[str, DesiredService] = {}
    for i, name in enumerate(names):
        uses = tuple(draw(st.lists(st.sampled_from(dep_keys), unique=True))) if dep_keys else ()
        earlier = names[:i]
        after = tuple(draw(st.lists(st.sampled_from(earlier), unique=True))) if earlier else ()
        env_keys = draw(st.lists(st.sampled_from(ENV_KEYS), unique=True, max_size=4))
        fields: dict[str, Any] = {
            "type": draw(st.sampled_from(platform.SERVICE_TYPES)),
            "port": draw(st.none() | st.integers(1024, 9999)),
            "source_path": name,
            "source_digest": draw(digests),
            "cpu_limit": draw(st.none() | st.sampled_from(["500m", "1", "2"])),
            "memory_limit": draw(st.none() | st.sampled_from(["512Mi", "1Gi", "2Gi"])),
            "replicas": draw(st.none() | st.integers(1, 3)),
            "internal_only": draw(st.none() | st.booleans()),
            "after": after,
            "uses": uses,
            "env": {k: draw(env_values(uses)) for k in env_keys},
            "build_env": draw(
                st.dictionaries(st.sampled_from(["NEXT_PUBLIC_X", "BUILD_MODE"]), env_values(()))
            ),
            "env_policy": draw(st.sampled_from(["replace", "merge"])),
            "subdomain": draw(st.none() | st.just(f"{name}-site")),
        }
        services[name] = DesiredService(**fields)
    return DesiredState(
        project="proj",
        environment=environment,
        region_id="r1",
        source=DesiredSource(digest=draw(digests)),
        dependencies=dependencies,
        services=services,
    )
