"""Manifests: JSON documents that rebuild a source exactly, in any process, years later.

`dumps` and `loads` write and read text, `to_manifest` and `from_manifest` the JSON
objects; `register` adds a source type of your own. Reading is strict and safe: it never
evaluates code, unpickles or imports anything named in the data, and every malformed
manifest raises `metalab.errors.ManifestError` whose message starts with the JSON path
of the problem, e.g. ``space.lr.low: expected a number, got "abc"``; a problem with the
document as a whole starts with ``the manifest:`` instead.

>>> from metalab import grid
>>> text = dumps(grid(lr=[0.1, 0.01]))
>>> text
'{"format_version":"1.0","spec":{"lr":[0.1,0.01]},"total_cases":2,"type":"GridSource"}'
>>> loads(text) == grid(lr=[0.1, 0.01])
True

The implementation is `metalab._io.manifest`.
"""

from metalab._io.manifest import (
    FORMAT_VERSION,
    MAX_DEPTH,
    MAX_NODES,
    SOURCE_TYPES,
    converter,
    deserialize_param_source,
    dumps,
    from_manifest,
    from_manifest_of,
    loads,
    register,
    to_manifest,
)

__all__ = [
    "FORMAT_VERSION",
    "MAX_DEPTH",
    "MAX_NODES",
    "SOURCE_TYPES",
    "converter",
    "deserialize_param_source",
    "dumps",
    "from_manifest",
    "from_manifest_of",
    "loads",
    "register",
    "to_manifest",
]
