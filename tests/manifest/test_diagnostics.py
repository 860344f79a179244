"""The shared Diagnostic type: one-line form, ordering, JSON shape."""

from __future__ import annotations

from opendeploy_plan.diagnostics import Diagnostic, has_errors, sorted_unique


def test_the_one_line_form_names_file_position_severity_path_and_summary() -> None:
    diagnostic = Diagnostic("opendeploy.yaml", 7, 11, "error", "services.web.port", "bad port")
    assert diagnostic.format() == "opendeploy.yaml:7:11: error: services.web.port: bad port"


def test_whole_file_problems_have_no_position_or_path() -> None:
    diagnostic = Diagnostic("opendeploy.yaml", 0, 0, "error", "", "no such file")
    assert diagnostic.format() == "opendeploy.yaml: error: no such file"


def test_the_long_form_indents_the_detail_under_the_line() -> None:
    diagnostic = Diagnostic("f.yaml", 1, 2, "warning", "a", "short", "first\nsecond")
    assert diagnostic.format_long() == "f.yaml:1:2: warning: a: short\n    first\n    second"


def test_diagnostics_sort_by_file_then_position_and_repeats_are_dropped() -> None:
    late = Diagnostic("a.yaml", 9, 1, "error", "x", "late")
    early_warning = Diagnostic("a.yaml", 2, 5, "warning", "y", "early")
    early_error = Diagnostic("a.yaml", 2, 5, "error", "y", "early")
    other_file = Diagnostic("b.yaml", 1, 1, "error", "z", "other")
    assert sorted_unique([other_file, late, early_warning, early_error, late]) == [
        early_error,
        early_warning,
        late,
        other_file,
    ]


def test_json_shape_and_error_detection() -> None:
    warning = Diagnostic("f.yaml", 3, 4, "warning", "p", "s", "d")
    assert warning.to_json() == {
        "severity": "warning",
        "summary": "s",
        "detail": "d",
        "file": "f.yaml",
        "line": 3,
        "col": 4,
        "path": "p",
    }
    assert not has_errors([warning])
    assert has_errors([warning, Diagnostic("f.yaml", 1, 1, "error", "", "e")])


def test_diagnostics_without_a_file_print_just_the_address() -> None:
    diagnostic = Diagnostic("", 0, 0, "error", "service.web", "cannot be planned")
    assert diagnostic.format() == "error: service.web: cannot be planned"
