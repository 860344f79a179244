"""The ordered list of ecosystem detectors and how one folder's detections are chosen."""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from opendeploy_plan.analyze.ecosystems.by_extension import detect_by_extension
from opendeploy_plan.analyze.ecosystems.go_rust import detect_go, detect_rust
from opendeploy_plan.analyze.ecosystems.jvm_dotnet_elixir import (
    detect_dotnet,
    detect_elixir,
    detect_jvm,
)
from opendeploy_plan.analyze.ecosystems.longtail import detect_long_tail
from opendeploy_plan.analyze.ecosystems.node import detect_deno, detect_node
from opendeploy_plan.analyze.ecosystems.python import detect_python
from opendeploy_plan.analyze.ecosystems.ruby_php import detect_php, detect_ruby
from opendeploy_plan.analyze.ecosystems.static import (
    detect_hugo,
    detect_jekyll,
    detect_plain_static,
)
from opendeploy_plan.analyze.model import Detection
from opendeploy_plan.analyze.repo import RepoView

Detector = Callable[[RepoView, str], "Detection | None"]

# Backend manifests come before package.json: Rails, Laravel and Django apps often carry a
# package.json for their asset pipeline, and that must not relabel them as Node services.
DETECTORS: Final[tuple[tuple[str, Detector], ...]] = (
    ("deno", detect_deno),
    ("ruby", detect_ruby),
    ("php", detect_php),
    ("python", detect_python),
    ("go", detect_go),
    ("rust", detect_rust),
    ("jvm", detect_jvm),
    ("dotnet", detect_dotnet),
    ("elixir", detect_elixir),
    ("node", detect_node),
    ("hugo", detect_hugo),
    ("jekyll", detect_jekyll),
    ("long-tail", detect_long_tail),
    ("static", detect_plain_static),
    ("by-extension", detect_by_extension),
)


def detect_folder(
    view: RepoView, folder: str, *, fallback: bool = True
) -> tuple[Detection | None, list[str]]:
    """The best detection for a folder and notes about the runners-up.

    A detection that names a framework beats one that does not; otherwise registry order wins.
    `fallback=False` leaves out the language-from-extensions last resort.
    """
    found: list[tuple[str, Detection]] = []
    for name, detector in DETECTORS:
        if name == "by-extension" and (found or not fallback):
            continue
        detection = detector(view, folder)
        if detection is not None:
            found.append((name, detection))
    if not found:
        return None, []
    if any(name != "static" and d.start_command is not None for name, d in found):
        # An index.html beside a package with a start script (`serve public`) is served by it.
        found = [item for item in found if item[0] != "static"]
    with_framework = [item for item in found if item[1].framework is not None]
    chosen_name, chosen = (with_framework or found)[0]
    notes = [
        f"also looks like {d.language.value}"
        + (f"/{d.framework.value}" if d.framework else "")
        + f" ({d.language.file}); {chosen_name} was chosen"
        for name, d in found
        if d is not chosen
        and d.language.value != chosen.language.value
        and d.framework
        and name != "static"  # an index.html is part of most front ends
    ]
    return chosen, notes
