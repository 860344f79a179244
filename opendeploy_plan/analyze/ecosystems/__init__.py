"""One detector per ecosystem: pure functions from a RepoView and a folder to a Detection."""

# The detectors are imported from their modules by analyze/registry.py.
__all__: list[str] = []
