"""Registries: a part's name -> the builder that makes it from its settings and its neighbours.

A builder is a function ``build(context, *, setting=default, ...) -> part``: its keyword-only
parameters are the part's settings, with their defaults, and nothing else is one. A default that
depends on a neighbour (the sphere's temperature from the data's kappa) is declared as ``derived``
beside the builder; what a part only needs from a neighbour (the oracle's action size) it reads from
the context, and it is not a setting. Register your own with the decorators::

    @register_encoder("tiny")
    def tiny(context, *, width: int = 16):
        \"\"\"A one-hidden-layer MLP.\"\"\"
        return MLPEncoder(context.observed_size, context.latent_dim, (width,), whiten=False)
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from identifiability._core import SettingError, derive_seed


@dataclass(frozen=True)
class Context:
    """What a builder may know: the run's seeds and the parts built before it (the process,
    then the objective; the encoder is built last).

    Attributes:
        seed: the training seed (initialisation, the parts' own noise, the data stream).
        problem_seed: the problem's seed (the process's mechanism, the evaluation set).
        data: the process, once built.
        geometry: the objective's latent geometry, "sphere" or "plane", once it is built.
    """

    seed: int
    problem_seed: int
    data: Any = None
    geometry: str | None = None

    def stream(self, *keys: int | str) -> int:
        """An independent seed of the training seed's family, for a part's own noise."""
        return derive_seed(self.seed, *keys)

    @property
    def latent_dim(self) -> int:
        """d, the dimension of the data's latents (and of the code)."""
        return self.data.latent_dim

    @property
    def observed_size(self) -> int:
        """Entries of one flattened observation x_t."""
        size = 1
        for n in self.data.observed_shape:
            size *= n
        return size


@dataclass(frozen=True)
class Entry:
    """One registered part: its builder, its settings with their defaults, the defaults derived
    from the context, a one-line summary (the builder's docstring's first line) and what the
    registration declared of it (``meta``; a process's latent ``geometry``, say)."""

    name: str
    build: Callable[..., Any]
    settings: Mapping[str, Any]
    derived: Mapping[str, Callable[[Context], Any]] = field(default_factory=dict)
    summary: str = ""
    meta: Mapping[str, Any] = field(default_factory=dict)

    def resolve(self, context: Context, given: Mapping[str, Any], kind: str, *, derive: bool = True) -> dict[str, Any]:
        """The effective value of every setting: ``given``, else derived (where ``derive``), else the
        default. A setting the part does not have is refused."""
        self.check(given, kind)
        derived = {k: f(context) for k, f in self.derived.items() if k not in given} if derive else {}
        return {**self.settings, **derived, **given}


    def check(self, given: Mapping[str, Any], kind: str) -> None:
        """Refuse a setting the part does not have, naming the ones it has."""
        unknown = sorted(set(given) - set(self.settings))
        if unknown:
            takes = ", ".join(self.settings) or "none"
            raise SettingError(unknown[0], f"is not a setting of the {kind} {self.name!r} (its settings: {takes})")


class Registry:
    """Names of one kind of part ("process", "encoder", "objective") -> their entries."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, Entry] = {}

    def __call__(
        self, name: str, *, derived: Mapping[str, Callable[[Context], Any]] | None = None, **meta: Any
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """A decorator registering a builder under ``name`` (a later registration replaces it);
        ``meta`` is kept on the entry (a process declares ``geometry="sphere"`` where its
        latents are unit vectors)."""

        def register(build: Callable[..., Any]) -> Callable[..., Any]:
            parameters = list(inspect.signature(build).parameters.values())
            settings = {p.name: p.default for p in parameters if p.kind is inspect.Parameter.KEYWORD_ONLY}
            missing = [k for k, v in settings.items() if v is inspect.Parameter.empty]
            if missing or not parameters or parameters[0].kind is inspect.Parameter.KEYWORD_ONLY:
                raise TypeError(f"a {self.kind} builder takes the context, then settings with defaults; {name!r} does not")
            summary = (inspect.getdoc(build) or "").split("\n")[0]
            self._entries[name] = Entry(name, build, settings, dict(derived or {}), summary, meta)
            return build

        return register

    @contextmanager
    def scoped(self) -> Iterator[Registry]:
        """Registrations made inside last until the block ends (a test's parts of its own); what was
        registered before, a name replaced inside included, is as it was after."""
        before = dict(self._entries)
        try:
            yield self
        finally:
            self._entries = before

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        """The registered names, in registration order."""
        return iter(self._entries)

    def __getitem__(self, name: str) -> Entry:
        if name not in self._entries:
            raise SettingError(self.kind, f"must be one of {', '.join(self._entries)}; got {name!r}")
        return self._entries[name]

    def names(self) -> tuple[str, ...]:
        return tuple(self._entries)

    def taking(self, setting: str) -> tuple[str, ...]:
        """The names whose parts have ``setting``."""
        return tuple(name for name, entry in self._entries.items() if setting in entry.settings)

    def build(self, name: str, context: Context, given: Mapping[str, Any]) -> tuple[Any, dict[str, Any]]:
        """The part named ``name`` and the effective value of each of its settings."""
        entry = self[name]
        settings = entry.resolve(context, given, self.kind)
        return entry.build(context, **settings), settings


PROCESSES = Registry("process")
ENCODERS = Registry("encoder")
OBJECTIVES = Registry("objective")
register_process = PROCESSES
register_encoder = ENCODERS
register_objective = OBJECTIVES
