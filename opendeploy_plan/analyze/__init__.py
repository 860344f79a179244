"""`odplan init`'s engine: detect each service of a repository and write a manifest for it.

Detectors (one per ecosystem, in `ecosystems/`) read a `RepoView`; `analyze` merges their
findings; `render_manifest` turns the result into commented YAML. Nothing here prints.
"""

from __future__ import annotations

from opendeploy_plan.analyze.confirm import Question, apply_answer, questions
from opendeploy_plan.analyze.emit import (
    MANIFEST_FILENAME,
    SCHEMA_URL,
    analysis_to_dict,
    render_manifest,
)
from opendeploy_plan.analyze.engine import analyze, dns_label, find_mining_marker
from opendeploy_plan.analyze.model import (
    Analysis,
    Confidence,
    DependencyAnalysis,
    EnvVar,
    Fact,
    PortCandidate,
    ServiceAnalysis,
)
from opendeploy_plan.analyze.profile import RunProfile, run_profiles
from opendeploy_plan.analyze.repo import RepoView

__all__ = [
    "MANIFEST_FILENAME",
    "SCHEMA_URL",
    "Analysis",
    "Confidence",
    "DependencyAnalysis",
    "EnvVar",
    "Fact",
    "PortCandidate",
    "Question",
    "RepoView",
    "RunProfile",
    "ServiceAnalysis",
    "analysis_to_dict",
    "analyze",
    "apply_answer",
    "dns_label",
    "find_mining_marker",
    "questions",
    "render_manifest",
    "run_profiles",
]
