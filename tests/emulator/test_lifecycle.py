"""The deployment lifecycle is a pure function of time: properties over any phase durations."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from opendeploy_plan.emulator import lifecycle

ORDER = ["pending", "analyzing", "building", "deploying", "success", "failed"]

durations = st.builds(
    lifecycle.Durations,
    pending=st.floats(0.01, 30),
    analyze=st.floats(0.01, 30),
    build=st.floats(0.01, 600),
    deploy=st.floats(0.01, 120),
    instant_fail=st.floats(0.01, 1.9),
)


def facts(**overrides: object) -> lifecycle.BuildFacts:
    base: dict[str, object] = dict(
        deployment_id="d1",
        service_name="web",
        environment="production",
        source_root="/src",
        service_source_path="",
        language="python",
        framework="fastapi",
        dockerfile_path="",
        replicas=1,
        resources="cpu=500m/1",
        health_check_path="/healthz",
        port=8000,
        needs_analysis=False,
    )
    base.update(overrides)
    return lifecycle.BuildFacts(**base)  # type: ignore[arg-type]


@settings(max_examples=60, deadline=None)
@given(durations, st.booleans(), st.sampled_from([None, "build", "deploy", "source"]))
def test_status_only_moves_forward_and_progress_never_drops(
    d: lifecycle.Durations, analyze: bool, failure: str | None
) -> None:
    timeline = lifecycle.plan_timeline(
        d,
        facts(
            needs_analysis=analyze,
            forced_phase=failure if failure in ("build", "deploy") else None,
            source_problem="source folder 'x' not found" if failure == "source" else None,
        ),
    )
    total = d.pending + d.analyze + d.build + d.deploy + 1
    instants = sorted(
        [total * i / 200 for i in range(201)]
        + [(p.start + p.end) / 2 for p in timeline.phases]
        + [timeline.end]
    )
    samples = [lifecycle.observe(timeline, t) for t in instants]
    ranks = [ORDER.index(s.status) for s in samples]
    assert ranks == sorted(ranks)
    progress = [s.progress for s in samples]
    assert progress == sorted(progress) and progress[0] >= 0 and progress[-1] <= 100
    final = samples[-1]
    if failure is None:
        assert (final.status, final.progress) == ("success", 100)
    else:
        assert final.status == "failed" and final.progress < 100 and timeline.error_msg
    assert final.completed_offset == timeline.end
    assert ("analyzing" in [s.status for s in samples]) == analyze


@settings(max_examples=40, deadline=None)
@given(durations)
def test_visible_logs_grow_with_time_and_are_in_order(d: lifecycle.Durations) -> None:
    timeline = lifecycle.plan_timeline(d, facts())
    counts = []
    for instant in [timeline.end * i / 50 for i in range(50)] + [timeline.end]:
        lines = lifecycle.visible_logs(timeline, instant)
        assert lines is not None
        assert [x.offset for x in lines] == sorted(x.offset for x in lines)
        counts.append(len(lines))
    assert counts == sorted(counts) and counts[-1] == len(timeline.logs or ())


@given(durations)
def test_instant_failure_is_progress_10_without_logs(d: lifecycle.Durations) -> None:
    timeline = lifecycle.instant_failure(d)
    done = lifecycle.observe(timeline, d.instant_fail)
    assert (done.status, done.progress) == ("failed", 10)
    assert lifecycle.visible_logs(timeline, 100) is None
    assert timeline.error_msg == "Service failed to deploy"


def test_a_stalled_deployment_never_finishes() -> None:
    d = lifecycle.Durations(1, 1, 1, 1, 0.5)
    timeline = lifecycle.plan_timeline(d, facts(needs_analysis=True, stall_phase="analyzing"))
    assert lifecycle.observe(timeline, 10**9).status == "analyzing"


def test_timelines_round_trip_through_json() -> None:
    d = lifecycle.Durations(1, 2, 3, 4, 0.5)
    for timeline in (lifecycle.plan_timeline(d, facts()), lifecycle.instant_failure(d)):
        assert lifecycle.Timeline.from_json(timeline.to_json()) == timeline
