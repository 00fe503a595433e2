"""Kinds: families of schema classes told apart by one field, open to new members.

A line is ``kind: batch`` or ``kind: continuous``; a raw-material policy ``kind: sQ``, ``sS`` ...; a
production plan ``policy: fixed`` ...; a site resupply policy ``policy: trigger`` ...  Each family is
a pydantic discriminated union whose members are schema classes; the kind-specific arithmetic lives
in those classes' methods, and the runtime keeps one registry per family from schema class to
runtime class.  So adding a kind is its schema class, its runtime class and one registration — no
string test of the kind anywhere else.  :meth:`KindFamily.register` may be called after import (from a
user's own module or a test): it rebuilds the scenario models that contain the family.
"""
from __future__ import annotations

import typing
from typing import Annotated, Any, Union

from pydantic import BeforeValidator, Discriminator, Tag

from sim.scenario.base import Model


def tag(tag_value: str) -> str:
    """How a kind appears in pydantic's error locations: ``<batch>``, never a field name
    (``trigger`` is a resupply kind *and* a field), and dropped from the field paths users see."""
    return f"<{tag_value}>"


class KindFamily:
    """The members of one discriminated union, keyed by the value of *field*.

    *default* is the kind meant when a scenario omits *field* (``policy`` of a plan is ``fixed``).
    With *tolerant*, fields that belong only to other members are dropped rather than refused, so that
    switching the kind with one override (``--set trials[0].resupply.policy=predictive``) works
    without deleting the old kind's fields; a misspelt field is still an error.
    """

    def __init__(self, name: str, field: str, default: str | None = None, tolerant: bool = False) -> None:
        self.name = name
        self.field = field
        self.default = default
        self.tolerant = tolerant
        self.members: dict[str, type[Model]] = {}
        self._holders: list[tuple[type[Model], str, Any]] = []  # (model, field, how the union is wrapped)

    def kind_of(self, cls: type[Model]) -> str:
        """The tag of a member class: the one value of its ``Literal`` *field*."""
        (value,) = typing.get_args(cls.model_fields[self.field].annotation)
        return value

    def add(self, *classes: type[Model]) -> None:
        """Members known when the schema is defined (no rebuild needed)."""
        for cls in classes:
            self.members[self.kind_of(cls)] = cls

    def union(self) -> Any:
        """The annotation of a field holding one member of this family."""
        members = tuple(Annotated[cls, Tag(tag(k))] for k, cls in self.members.items())
        union = Annotated[Union[members], Discriminator(self._discriminator())]
        return Annotated[union, BeforeValidator(self._drop_foreign)] if self.tolerant else union

    def _ours(self, meta: Any) -> bool:
        return isinstance(meta, Discriminator) or (isinstance(meta, BeforeValidator)
                                                   and meta.func == self._drop_foreign)

    def _drop_foreign(self, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        kind = value.get(self.field, self.default)
        mine = self.members.get(kind) if isinstance(kind, str) else None
        if mine is None:  # an unknown or malformed kind: the discriminator reports it
            return value
        others = {f for cls in self.members.values() for f in cls.model_fields} - set(mine.model_fields)
        return {k: v for k, v in value.items() if k not in others}

    def _discriminator(self):
        field, default = self.field, self.default

        def pick(value: Any) -> str | None:
            if isinstance(value, dict):
                kind = value.get(field, default)
            else:
                kind = getattr(value, field, None)
            return None if kind is None else tag(str(kind))

        pick.__name__ = field  # pydantic names the discriminator after this in error messages
        return pick

    def hold(self, model: type[Model], field: str, wrap=lambda u: u) -> None:
        """Record that *model.field* holds this family (``wrap`` gives e.g. ``list[union]``)."""
        self._holders.append((model, field, wrap))

    def register(self, cls: type[Model]) -> type[Model]:
        """Add a member after the schema was built, and rebuild every model that contains it."""
        self.members[self.kind_of(cls)] = cls
        self._rebuild()
        return cls

    def unregister(self, kind: str) -> None:
        """Remove a member added by :meth:`register` (tests undo their toy kinds)."""
        del self.members[kind]
        self._rebuild()

    def _rebuild(self) -> None:
        for model, field, wrap in self._holders:
            annotation, info = wrap(self.union()), model.model_fields[field]
            if typing.get_origin(annotation) is Annotated:
                # a field annotated with the union itself: pydantic keeps the union's discriminator and
                # validators in the field's metadata, apart from the type; replace ours, keep the rest
                info.annotation = annotation.__origin__
                info.metadata = [m for m in info.metadata if not self._ours(m)] + list(annotation.__metadata__)
            else:
                info.annotation = annotation
        rebuild_all()


FAMILIES: list[KindFamily] = []
"""Every family, for error messages (their tags are not field names)."""


def family(name: str, field: str, default: str | None = None, tolerant: bool = False) -> KindFamily:
    """A new family, known to the error messages."""
    fam = KindFamily(name, field, default, tolerant)
    FAMILIES.append(fam)
    return fam


def _subclasses(cls: type) -> list[type]:
    out = []
    for sub in cls.__subclasses__():
        out.append(sub)
        out += _subclasses(sub)
    return out


def rebuild_all() -> None:
    """Rebuild every schema model, inner ones first (definition order), so containers see new members."""
    seen: set[type] = set()
    for cls in _subclasses(Model):
        if cls not in seen:
            seen.add(cls)
            cls.model_rebuild(force=True)


class Registry(dict):
    """One family's map from schema class to what runs it (a runtime class), kept by the runtime side.

    :meth:`register` adds a kind to both at once: the schema accepts it and the model can run it.
    """

    def __init__(self, family: KindFamily, entries: dict[type, Any]) -> None:
        super().__init__(entries)
        self.family = family

    def register(self, spec_cls: type[Model], runtime: Any) -> None:
        self.family.register(spec_cls)
        self[spec_cls] = runtime

    def unregister(self, spec_cls: type[Model]) -> None:
        """Undo :meth:`register` (tests register toy kinds)."""
        self.family.unregister(self.family.kind_of(spec_cls))
        del self[spec_cls]

    def of(self, spec: Model) -> Any:
        """What runs *spec* (an instance of one of the family's schema classes)."""
        return self[type(spec)]
