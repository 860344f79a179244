"""The stamp through rollbacks and its build digest (issue 16 item 7, issue 14 leftover): a
platform rollback (`Rollback to <id>`) runs its target's source and build; `b=` records the
build variables the manifest asked for."""

from __future__ import annotations

from opendeploy_plan.plan.stamp import (
    DESCRIPTION_MAX_CHARS,
    Stamp,
    build_digest,
    format_stamp,
    is_rollback,
    parse_stamp,
    rollback_target_id,
    source_stamp,
)

P = "odsrc1:" + "a" * 64
S = "odsrc1:" + "b" * 64


def test_build_digest_round_trips_and_fits() -> None:
    stamp = Stamp(
        P,
        S,
        run_id="r" * 12,
        config_digest="c1:" + "0" * 16,
        build_digest=build_digest({"NEXT_PUBLIC_X": "1"}, "service-id"),
    )
    text = format_stamp(stamp, "odplan deploy of web " * 20)
    assert len(text) <= DESCRIPTION_MAX_CHARS
    parsed = parse_stamp(text)
    assert parsed is not None and parsed.build_digest == stamp.build_digest


def test_build_digest_is_keyed_and_order_free() -> None:
    one = build_digest({"A": "1", "B": "2"}, "svc-1")
    assert one == build_digest({"B": "2", "A": "1"}, "svc-1")
    assert one != build_digest({"A": "1", "B": "3"}, "svc-1")
    assert one != build_digest({"A": "1", "B": "2"}, "svc-2")
    assert one.startswith("b1:") and len(one) == 19


def test_rollback_descriptions() -> None:
    assert rollback_target_id("Rollback to 5a7c1ce8-90a9") == "5a7c1ce8-90a9"
    assert is_rollback("Rollback to abc")
    assert not is_rollback("odplan deploy of web [odplan:v2 p=x s=y]")
    assert not is_rollback("Rollback to")
    assert not is_rollback(None)


def test_source_stamp_follows_rollbacks_and_keeps_only_source_and_build() -> None:
    target = format_stamp(
        Stamp(P, S, run_id="run1", config_digest="c1:" + "1" * 16, build_digest="b1:" + "2" * 16)
    )
    descriptions = {"d1": target, "d2": "Rollback to d1", "d3": "Rollback to d2"}

    direct = source_stamp(target, descriptions.get)
    via_two = source_stamp("Rollback to d2", descriptions.get)

    assert direct is not None and direct.config_digest is not None
    assert via_two is not None
    assert (via_two.project_digest, via_two.service_digest) == (direct.project_digest, S[:31])
    assert via_two.config_digest is None and via_two.run_id is None
    assert via_two.build_digest == "b1:" + "2" * 16
    assert source_stamp("Rollback to gone", descriptions.get) is None
    loop = {"x": "Rollback to y", "y": "Rollback to x"}
    assert source_stamp("Rollback to x", loop.get) is None  # bounded, never spins
