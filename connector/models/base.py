"""The abstract base every record shares (created/updated timestamps), and a helper for relations
a caller loaded already (``select_related``), so a selector can use them instead of a query."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

NOT_LOADED: Any = object()
"""What :func:`loaded_relation` answers when the relation is not loaded on the instance."""


class BaseModel(models.Model):
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True


_PRELOADED = "_preloaded_relations"


def mark_loaded_with(instance: models.Model, *names: str) -> None:
    """Say that ``instance`` was read together with these relations (``select_related``) just now,
    so :func:`loaded_relation` may hand them out. Only an explicit read marks them: a relation that
    Django cached along the way (an object created or read earlier in a long task) may be stale and
    is never used in place of a query."""
    setattr(instance, _PRELOADED, frozenset(names))


def loaded_relation(instance: models.Model, name: str) -> Any:
    """The object related to ``instance`` through ``name`` if it was read with it
    (:func:`mark_loaded_with`), ``None`` if it was and there is none, else :data:`NOT_LOADED` (the
    caller queries). Works for forward and reverse one-to-one relations."""
    if name not in getattr(instance, _PRELOADED, ()):
        return NOT_LOADED
    field = instance._meta.get_field(name)
    return field.get_cached_value(instance, default=None)  # type: ignore[union-attr]
