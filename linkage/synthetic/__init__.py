"""The synthetic world generator: a local authority's five sources with ground truth.

``generate(children, seed, out)`` writes a world (see docs/SYNTHETIC.md for the model and every
corruption rate); ``build_world`` returns the same world in memory for tests and benchmarks.
"""

from .world import World, WorldSummary, build_world, generate

__all__ = ["World", "WorldSummary", "build_world", "generate"]
