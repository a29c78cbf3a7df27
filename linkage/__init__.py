"""childlink: one identifier per child across an English local authority's services.

The data flows one way: sources -> standardise -> block -> score -> cluster ->
trace / review / evaluate. Each stage is a subpackage or module of this package.
"""

__version__ = "0.1.0"
