"""JSON Schema references stay inside the schema file: a schema is data the user hands us, and
jsonschema's default registry fetches any `$ref` it cannot find (`urlopen`: file://, http://),
which read a local secret into an answer's note and sent a request from the scoring machine.

- `local_registry()`: the registry every validator here is built with; it knows the schema's own
  resources and the metaschemas jsonschema bundles, and retrieves nothing.
- `outside_refs(schema)`: the `$ref`/`$dynamicRef` values of a schema that do not resolve within
  it, found by walking its subschemas as jsonschema does (`$id` changes the base URI), so a
  schema is refused when it is loaded, not when an answer happens to reach the reference.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

_REF_KEYWORDS = ("$ref", "$dynamicRef")


def local_registry():
    """A `referencing.Registry` with no retrieve function: looking up a URI it does not hold
    raises `referencing.exceptions.Unresolvable` instead of reading a file or the network.
    (jsonschema combines it with the bundled metaschemas, `jsonschema_specifications.REGISTRY`.)"""
    from referencing import Registry

    return Registry()


def outside_refs(schema: dict[str, Any] | bool) -> list[str]:
    """The references of `schema` that nothing inside it answers, in the order met."""
    from jsonschema import validators
    from jsonschema_specifications import REGISTRY as BUNDLED
    from referencing import Specification
    from referencing.jsonschema import specification_with

    # The dialect and the root resource as jsonschema's own validator builds them
    # (jsonschema/validators.py, `create` and `__attrs_post_init__`).
    cls = validators.validator_for(schema)
    dialect = specification_with(cls.ID_OF(cls.META_SCHEMA) or "urn:unknown-dialect", default=Specification.OPAQUE)
    resource = dialect.create_resource(schema)
    resolver = BUNDLED.combine(local_registry()).resolver_with_root(resource)
    return list(dict.fromkeys(_unresolved(resolver, resource)))


def _unresolved(resolver, resource) -> Iterator[str]:
    from referencing.exceptions import Unresolvable

    contents = resource.contents
    if isinstance(contents, dict):
        for keyword in _REF_KEYWORDS:
            ref = contents.get(keyword)
            if isinstance(ref, str):
                try:
                    resolver.lookup(ref)
                except Unresolvable:
                    yield ref
    for sub in resource.subresources():
        yield from _unresolved(resolver.in_subresource(sub), sub)
