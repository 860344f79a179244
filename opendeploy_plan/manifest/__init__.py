"""The manifest room: `opendeploy.yaml` models, loading with line:col diagnostics, references.

Other rooms import from here only; the modules behind it are implementation details.
"""

from __future__ import annotations

from opendeploy_plan.manifest.dump import dump_manifest
from opendeploy_plan.manifest.envfiles import EnvFileError, load_env_files, lookup_secret
from opendeploy_plan.manifest.loader import (
    DEFAULT_FILENAME,
    LoadResult,
    load_manifest,
    load_manifest_bytes,
    manifest_digest,
)
from opendeploy_plan.manifest.models import (
    FORMAT_VERSION,
    CpuResources,
    Dependency,
    GitSource,
    Manifest,
    MemoryResources,
    Project,
    Resources,
    Service,
    default_env_files,
)
from opendeploy_plan.manifest.templates import (
    DependencyRef,
    SecretRef,
    TemplateError,
    TemplatePart,
    parse_template,
)

__all__ = [
    "DEFAULT_FILENAME",
    "FORMAT_VERSION",
    "CpuResources",
    "Dependency",
    "DependencyRef",
    "EnvFileError",
    "GitSource",
    "LoadResult",
    "Manifest",
    "MemoryResources",
    "Project",
    "Resources",
    "SecretRef",
    "Service",
    "TemplateError",
    "TemplatePart",
    "default_env_files",
    "dump_manifest",
    "load_env_files",
    "load_manifest",
    "load_manifest_bytes",
    "lookup_secret",
    "manifest_digest",
    "parse_template",
]
