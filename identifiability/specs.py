"""An experiment as a frozen spec of parts, each a registered name and its settings.

    ExperimentSpec(process=Part.of("jump", latent_dim=4, uncertainty=0.9), objective=Part.of("adassl-v"))

or from flat settings, each routed to the part that has it (what the command line does):

    ExperimentSpec.from_settings(process="jump", objective="adassl-v", latent_dim=4, uncertainty=0.9, steps=2000)
"""

from __future__ import annotations

import hashlib
import importlib
import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

import tomli_w


from identifiability._core import SettingError, check_int, check_seed

from . import parts  # noqa: F401  (fills the registries with the built-in parts)
from .parts.objectives import default_objective
from .registry import ENCODERS, PROCESSES, OBJECTIVES, Registry
from .training import Training, parse_device


def _frozen(value: Any) -> Any:
    """Lists as tuples, so that a spec read back from JSON is equal to itself and hashable."""
    return tuple(_frozen(v) for v in value) if isinstance(value, (list, tuple)) else value


@dataclass(frozen=True)
class Part:
    """A registered part's ``name`` and the ``settings`` given to it (the rest take their defaults)."""

    name: str
    settings: tuple[tuple[str, Any], ...] = ()

    def __post_init__(self) -> None:
        items = self.settings.items() if isinstance(self.settings, Mapping) else self.settings
        object.__setattr__(self, "settings", tuple(sorted((k, _frozen(v)) for k, v in items)))

    @classmethod
    def of(cls, name: str, **settings: Any) -> Part:
        return cls(name, tuple(settings.items()))

    @property
    def given(self) -> dict[str, Any]:
        """The settings as a dict."""
        return dict(self.settings)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "settings": self.given}


@dataclass(frozen=True)
class Evaluation:
    """The scoring: ``eval_samples`` held-out samples (half fit, half scored); ``dci`` adds DCI."""

    eval_samples: int = 10_000
    dci: bool = False

    def __post_init__(self) -> None:
        check_int("eval_samples", self.eval_samples, low=100)
        if not isinstance(self.dci, bool):
            raise SettingError("dci", f"must be True or False, got {self.dci!r}")


@dataclass(frozen=True)
class ExperimentSpec:
    """A run: the parts, the budget, the scoring, and the seeds.

    Attributes:
        process, encoder, objective: registered parts with their settings; the objective
            defaults to InfoNCE where the process's latents are on the sphere, else its Gaussian
            (plane) form ``plane-kde-ldm``.
        seed: the training seed: initialisation, the parts' own noise and the data stream.
        problem_seed: the problem's seed: the process's mechanism and the evaluation set
            (default: ``seed``). Hold it and vary ``seed`` for the spread over trainings of one
            problem; vary both for the spread over problems.
        device: "auto", "cpu", "cuda" or "cuda:N"; checked when the run starts.
        plugins: modules imported before the parts are looked up, where parts of one's own are
            registered; a registered part from outside this package adds its module itself, so that
            a worker process rebuilding the spec imports it too.
    """

    process: Part = Part("sphere")
    encoder: Part = Part("mlp")
    objective: Part | None = None
    training: Training = field(default_factory=Training)
    evaluation: Evaluation = field(default_factory=Evaluation)
    seed: int = 0
    problem_seed: int | None = None
    device: str = "auto"
    plugins: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for module in self.plugins:
            try:
                importlib.import_module(module)
            except ImportError as error:
                raise SettingError("plugins", f"cannot import {module!r}: {error}") from None
        check_seed("seed", self.seed)
        if self.problem_seed is not None:
            check_seed("problem_seed", self.problem_seed)
        parse_device(self.device)
        if self.objective is None:
            geometry = PROCESSES[self.process.name].meta.get("geometry", "plane")
            object.__setattr__(self, "objective", Part(default_objective(geometry)))
        plugins = set(self.plugins)
        for registry, part in self.parts():
            entry = registry[part.name]  # a name that is not registered is refused here
            entry.check(part.given, registry.kind)
            if not entry.build.__module__.startswith(f"{__package__}."):
                plugins.add(entry.build.__module__)
        object.__setattr__(self, "plugins", tuple(sorted(plugins)))

    def parts(self) -> tuple[tuple[Registry, Part], ...]:
        """(registry, part) for the process, the encoder and the objective."""
        assert self.objective is not None
        return (PROCESSES, self.process), (ENCODERS, self.encoder), (OBJECTIVES, self.objective)

    @property
    def problem(self) -> int:
        """The problem seed in effect."""
        return self.seed if self.problem_seed is None else self.problem_seed

    @property
    def key(self) -> str:
        """16 hex digits of a SHA-256 of the spec (where it runs left out) with every part's settings
        completed by its defaults, so that a run recorded before a default changed is not taken for
        one after: the key of its record."""
        fields = {k: v for k, v in self.to_dict().items() if k != "device"}
        for registry, part in self.parts():
            fields[registry.kind]["settings"] = {**registry[part.name].settings, **part.given}
        return hashlib.sha256(json.dumps(fields, sort_keys=True, default=repr).encode()).hexdigest()[:16]

    @classmethod
    def from_settings(
        cls,
        *,
        process: str = "sphere",
        encoder: str = "mlp",
        objective: str | None = None,
        seed: int = 0,
        problem_seed: int | None = None,
        device: str = "auto",
        plugins: tuple[str, ...] = (),
        **settings: Any,
    ) -> ExperimentSpec:
        """A spec from flat settings: the budget's and the scoring's go to ``Training`` and
        ``Evaluation``; a part's setting goes to the chosen part that has it, or, named ``part.key``
        ("objective.hidden"), to that part. A bare setting that two chosen parts have is refused
        naming both (say which as ``part.key``), one that none has naming the parts that would take
        it."""
        budget = {f.name for f in fields(Training)}
        scoring = {f.name for f in fields(Evaluation)}
        spec = cls(Part(process), Part(encoder), None if objective is None else Part(objective), seed=seed,
                   problem_seed=problem_seed, device=device, plugins=tuple(plugins))
        chosen = {registry.kind: (registry, part) for registry, part in spec.parts()}
        given: dict[str, dict[str, Any]] = {kind: {} for kind in chosen}
        for name, value in settings.items():
            if name in budget or name in scoring:
                continue
            kind, dot, key = name.partition(".")
            if dot:
                if kind not in chosen:
                    raise SettingError(name, "names no part: a qualified setting is process.KEY, encoder.KEY or objective.KEY")
                registry, part = chosen[kind]
                try:
                    registry[part.name].check({key: value}, kind)
                except SettingError as error:
                    raise SettingError(name, error.reason) from None
                given[kind][key] = value
                continue
            takers = [k for k, (registry, part) in chosen.items() if name in registry[part.name].settings]
            if not takers:
                raise SettingError(name, _nobody_takes(name, spec))
            if len(takers) > 1:
                both = " and ".join(f"the {k} {chosen[k][1].name!r}" for k in takers)
                raise SettingError(name, f"is a setting of {both}: say which, as {' or '.join(f'{k}.{name}' for k in takers)}")
            given[takers[0]][name] = value
        return replace(
            spec,
            process=Part(process, tuple(given["process"].items())),
            encoder=Part(encoder, tuple(given["encoder"].items())),
            objective=Part(spec.objective.name, tuple(given["objective"].items())),  # type: ignore[union-attr]
            training=Training(**{k: v for k, v in settings.items() if k in budget}),
            evaluation=Evaluation(**{k: v for k, v in settings.items() if k in scoring}),
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready fields; ``from_dict`` reads them back into an equal spec."""
        assert self.objective is not None
        return {
            "process": self.process.to_dict(),
            "encoder": self.encoder.to_dict(),
            "objective": self.objective.to_dict(),
            "training": {f.name: getattr(self.training, f.name) for f in fields(Training)},  # the dataclass fields by name
            "evaluation": {f.name: getattr(self.evaluation, f.name) for f in fields(Evaluation)},  # likewise
            "seed": self.seed,
            "problem_seed": self.problem_seed,
            "device": self.device,
            "plugins": list(self.plugins),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ExperimentSpec:
        """The spec ``to_dict`` wrote; a missing field takes its default, an unknown one is refused."""
        data = _table("spec", data, ExperimentSpec().to_dict())

        def part(kind: str) -> Part:
            default = getattr(cls, kind)  # the field's default Part
            value = _table(kind, data[kind] if kind in data else default.to_dict(), ("name", "settings"))
            if not isinstance(value.get("name"), str):
                raise SettingError(kind, "needs a name (a registered part's)")
            return Part(value["name"], tuple(_table(f"{kind}.settings", value.get("settings", {}), None).items()))

        return cls(
            process=part("process"),
            encoder=part("encoder"),
            objective=part("objective") if "objective" in data else None,
            training=Training(**_table("training", data.get("training", {}), [f.name for f in fields(Training)])),
            evaluation=Evaluation(**_table("evaluation", data.get("evaluation", {}), [f.name for f in fields(Evaluation)])),
            seed=data.get("seed", 0),
            problem_seed=data.get("problem_seed"),
            device=data.get("device", "auto"),
            plugins=tuple(data.get("plugins", ())),
        )

    def to_toml(self) -> str:
        """The spec as TOML in the layout of a sweep file's runs (``from_toml`` reads it back, and it
        pastes into a ``[[runs]]`` entry): the parts' names, the seeds and device, the budget's and
        the scoring's settings, and each part's given settings, bare where one chosen part has the
        name and as ``"part.key"`` where two do."""
        assert self.objective is not None
        flat: dict[str, Any] = {"process": self.process.name, "encoder": self.encoder.name, "objective": self.objective.name,
                                "seed": self.seed, "device": self.device}
        if self.problem_seed is not None:
            flat["problem_seed"] = self.problem_seed
        if self.plugins:
            flat["plugins"] = list(self.plugins)
        flat.update({f.name: getattr(self.training, f.name) for f in fields(Training)})  # the dataclass's fields by name
        flat.update({f.name: getattr(self.evaluation, f.name) for f in fields(Evaluation)})  # the dataclass's fields by name
        for registry, part in self.parts():
            for key, value in part.given.items():
                shared = sum(key in r[p.name].settings for r, p in self.parts()) > 1
                if value is not None:  # TOML has no null: a None given is its default's None
                    flat[f"{registry.kind}.{key}" if shared else key] = list(value) if isinstance(value, tuple) else value
        return tomli_w.dumps(flat)

    @classmethod
    def from_toml(cls, text: str) -> ExperimentSpec:
        """A spec from TOML text in ``to_toml``'s layout, a sweep run's: flat settings as
        ``from_settings`` takes them (plus ``plugins``)."""
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as error:
            raise SettingError("config", f"is not valid TOML: {error}") from None
        tables = sorted(k for k, v in data.items() if isinstance(v, dict))
        if tables:
            raise SettingError(tables[0], "is a table; a spec file is flat, as a sweep's runs: process = \"NAME\", "
                                          "settings as key = value (\"part.key\" where two parts share one)")
        return cls.from_settings(**{k: tuple(v) if k == "plugins" else v for k, v in data.items()})


def _table(name: str, value: Any, fields: Any) -> Mapping[str, Any]:
    """``value`` as a table (a mapping with string keys) holding only ``fields`` (any, where None)."""
    if not isinstance(value, Mapping):
        raise SettingError(name, f"must be a table, not {type(value).__name__} {value!r}")
    unknown = sorted(str(k) for k in value if fields is not None and k not in fields)
    if unknown:
        where = "a spec" if name == "spec" else name
        raise SettingError(unknown[0], f"is not a field of {where} (its fields: {', '.join(fields)})")
    return value


def _nobody_takes(name: str, spec: ExperimentSpec) -> str:
    chosen = ", ".join(f"{registry.kind} {part.name!r}" for registry, part in spec.parts())
    takers = [f"{n} ({registry.kind})" for registry, _ in spec.parts() for n in registry.taking(name)]
    where = f"it is a setting of: {', '.join(takers)}" if takers else "no part has it"
    return f"is not a setting of the chosen parts ({chosen}); {where}"
