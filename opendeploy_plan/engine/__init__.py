"""The engine: assemble desired and observed state and make a plan, for `plan` and `apply`;
check a saved plan (`saved`), run a plan (`execute`) and read back the final report (`report`).

The effectful edges live here (reading secrets and the source tree, refreshing through the
gateway); the planner they feed stays pure. Nothing here prints: views do. Layers: cli →
engine → apply / plan → state → gateway / manifest / source.
"""

from __future__ import annotations

# Import the module a caller needs (`engine.prepare`, `engine.saved`, …): each pulls in only
# its own dependencies, so the CLI stays quick to start.
__all__: list[str] = []
