"""Stage 3: who made each component, with a relationship, a confidence and the evidence."""

from provenance.attribute.resolve import combine, resolve

__all__ = ["combine", "resolve"]
