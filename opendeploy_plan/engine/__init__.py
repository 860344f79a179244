"""The engine: assemble desired and observed state and make a plan, for `plan` and `apply`.

The effectful edges live here (reading secrets and the source tree, refreshing through the
gateway); the planner they feed stays pure. Layers: cli → engine → apply / plan → state →
gateway / manifest / source.
"""
