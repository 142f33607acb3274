"""Bijections F: R^D -> R^D with their log-determinants, built from zuko's transforms."""

from __future__ import annotations

import math
from functools import partial
from collections.abc import Callable, Sequence
from typing import Any, Literal

import torch
import zuko
from torch import nn
from zuko.transforms import DependentTransform, MonotonicAffineTransform

_SLOPE = 1e-3  # zuko's MonotonicAffineTransform soft-clips log-scales to |log(slope)|


class Bijection(nn.Module):
    """F: R^D -> R^D. ``forward(x)`` returns (F(x), log|det J_F(x)|); ``inverse(y)`` returns F^{-1}(y).

    Inputs are (..., D); log-determinants (...,).
    """

    dim: int

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError

    def inverse(self, y: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def initialize(self, x: torch.Tensor) -> None:
        """A data-dependent start from samples x (n, D): none by default."""

    def inverse_with_tangents(self, y: torch.Tensor, tangents: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor] | None:
        """F^{-1}(y) (n, D) and the tangents (n, k, D) pushed through it, J_{F^{-1}}(y) t for each of
        the k rows t, by analytic rules: or None where this bijection has none (autodiff then)."""
        return None


# Forward-mode rules of the layers of ``ZukoBijection``'s inverse, by module type: each maps (module,
# y (n, D), tangents (n, k, D)) to (x, tangents) for x = the layer's inverse at y, or returns None
# where the module is of a form it does not know.
TangentRule = Callable[[nn.Module, torch.Tensor, torch.Tensor], "tuple[torch.Tensor, torch.Tensor] | None"]
INVERSE_TANGENTS: dict[type, TangentRule] = {}


def inverse_tangents(kind: type) -> Callable[[TangentRule], TangentRule]:
    """Register the forward-mode rule of the inverse of layers of type ``kind``."""

    def register(rule: TangentRule) -> TangentRule:
        INVERSE_TANGENTS[kind] = rule
        return rule

    return register


def _mlp_with_tangents(mlp: nn.Sequential, h: torch.Tensor, tangents: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor] | None:
    """A Linear / ReLU network's output at h (n, a) and its Jacobian applied to tangents (n, k, a),
    carried together as rows (n, 1 + k, a): a linear layer is one product for both (the bias on the
    first row only) and a ReLU one mask, the primal's, for both."""
    rows = torch.cat([h.unsqueeze(-2), tangents], -2)
    first = torch.zeros(rows.shape[-2], 1, dtype=h.dtype, device=h.device)
    first[0] = 1
    for layer in mlp:
        if isinstance(layer, (nn.Linear, zuko.nn.Linear)) and layer.weight.ndim == 2:
            rows = rows @ layer.weight.mT
            if layer.bias is not None:
                rows = rows + first * layer.bias
        elif isinstance(layer, nn.ReLU):
            rows = rows * (rows[..., :1, :] > 0)
        else:
            return None
    return rows[..., 0, :], rows[..., 1:, :]


def monotonic_affine(shift: torch.Tensor, raw_scale: torch.Tensor) -> MonotonicAffineTransform:
    """zuko's monotonic affine map with its log-scale soft-clipped at |log(_SLOPE)|, set here: zuko's
    own default changed from 1e-4 to 1e-3 in its release 1.5, and the tangent rules below use _SLOPE."""
    return MonotonicAffineTransform(shift, raw_scale, slope=_SLOPE)


def _elementwise_affine(shift: torch.Tensor, raw_scale: torch.Tensor) -> DependentTransform:
    return DependentTransform(monotonic_affine(shift, raw_scale), 1)


class Standardize(zuko.flows.UnconditionalTransform):
    """y = exp(a) x + b per coordinate (ActNorm-like), starting at the identity.

    Unlike ActNorm it never initialises itself on its first batch by side effect: call
    ``initialize(x)`` explicitly to set it to standardise x.
    """

    def __init__(self, dim: int) -> None:
        super().__init__(_elementwise_affine, torch.zeros(dim), torch.zeros(dim))

    @torch.no_grad()
    def initialize(self, x: torch.Tensor) -> None:
        """Set shift and scale so that (n, D) data x come out with zero mean and unit variance."""
        mean, std = x.mean(0), x.std(0).clamp_min(1e-6)
        bound = abs(math.log(_SLOPE))
        log_scale = (-std.log()).clamp(-0.99 * bound, 0.99 * bound)
        shift, raw = self.args
        raw.copy_(log_scale / (1 - log_scale.abs() / bound))  # inverts zuko's soft clip
        shift.copy_(-mean * log_scale.exp())


@inverse_tangents(Standardize)
def _standardize_tangents(module: Standardize, y: torch.Tensor, tangents: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    affine = module().base  # x = (y - shift) / scale, coordinatewise
    return (y - affine.shift) / affine.scale, tangents / affine.scale


class LULinear(zuko.transforms.LULinearTransform):
    """zuko's LU-parametrised linear layer, applied and inverted by matrix products.

    zuko inverts by two triangular solves broadcast over the batch; under forward-mode AD (the
    exact log-volume's Jacobians) that materialises a copy of the matrix per row, which made the
    Jacobian 2x slower. Here W^{-1} is formed once per call from the D x D factors.
    """

    def __init__(self, LU: torch.Tensor, **kwargs: Any) -> None:
        super().__init__(LU, **kwargs)
        eye = torch.eye(LU.shape[-1], dtype=LU.dtype, device=LU.device)
        self.weight = self.L @ self.U
        inv_l = torch.linalg.solve_triangular(self.L, eye, upper=False)
        self.inverse_weight = torch.linalg.solve_triangular(self.U, inv_l, upper=True, unitriangular=True)

    def _call(self, x: torch.Tensor) -> torch.Tensor:
        return x @ self.weight.mT

    def _inverse(self, y: torch.Tensor) -> torch.Tensor:
        return y @ self.inverse_weight.mT


class _IndexedCoupling(zuko.transforms.CouplingTransform):
    """zuko's coupling transform handed its split indices, instead of finding them in the mask with
    ``nonzero`` on every call (a host round trip per layer and step), and merging the halves by one
    gather: zuko's two indexed writes into an empty tensor cannot run under ``vmap`` where the indices
    are a seed's own (stacked buffers, ``training.train_seeds``)."""

    def __init__(self, meta: Any, idx_a: torch.Tensor, idx_b: torch.Tensor, merge: torch.Tensor) -> None:
        zuko.transforms.Transform.__init__(self)
        self.meta, self.idx_a, self.idx_b, self.order = meta, idx_a, idx_b, merge

    def split(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return x.index_select(-1, self.idx_a), x.index_select(-1, self.idx_b)

    def merge(self, x_a: torch.Tensor, x_b: torch.Tensor, shape: torch.Size) -> torch.Tensor:
        return torch.cat([x_a, x_b], -1).index_select(-1, self.order)


class Coupling(zuko.flows.GeneralCouplingTransform):
    """zuko's general coupling, its split indices computed once and kept as buffers."""

    def __init__(self, features: int, mask: torch.Tensor, **kwargs: Any) -> None:
        super().__init__(features, mask=mask, **kwargs)
        self.register_buffer("idx_a", self.mask.nonzero().squeeze(-1))
        self.register_buffer("idx_b", (~self.mask).nonzero().squeeze(-1))
        # (x_a, x_b) -> x; derived from the mask, so not saved (state dicts of earlier flows still load)
        self.register_buffer("merge", torch.cat([self.idx_a, self.idx_b]).argsort(), persistent=False)

    def forward(self, c: torch.Tensor | None = None) -> zuko.transforms.Transform:
        return _IndexedCoupling(partial(self.meta, c), self.idx_a, self.idx_b, self.merge)


@inverse_tangents(zuko.flows.UnconditionalTransform)
def _linear_tangents(module: nn.Module, y: torch.Tensor, tangents: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor] | None:
    linear = module()
    if not isinstance(linear, LULinear):
        return None
    return linear.inv(y), tangents @ linear.inverse_weight.mT


@inverse_tangents(Coupling)
def _coupling_tangents(module: Coupling, y: torch.Tensor, tangents: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor] | None:
    """Affine coupling, x_a = y_a, x_b = (y_b - shift(y_a)) exp(-s(y_a)) with s zuko's soft-clipped
    log-scale of the raw output r: dx_b = (dy_b - dshift) exp(-s) - x_b ds, ds = dr / (1 + |r| / B)^2."""
    if module.univariate is not monotonic_affine:
        return None
    y_a, y_b = y.index_select(-1, module.idx_a), y.index_select(-1, module.idx_b)
    t_a, t_b = tangents.index_select(-1, module.idx_a), tangents.index_select(-1, module.idx_b)
    pushed = _mlp_with_tangents(module.hyper, y_a, t_a)
    if pushed is None:
        return None
    phi, dphi = pushed  # (n, 2 D_b) and (n, k, 2 D_b), interleaved (shift, raw) per coordinate
    shift, raw, dshift, draw = phi[..., 0::2], phi[..., 1::2], dphi[..., 0::2], dphi[..., 1::2]
    bound = abs(math.log(_SLOPE))
    squash = 1 + raw.abs() / bound
    inverse_scale = torch.exp(-raw / squash)
    x_b = (y_b - shift) * inverse_scale
    dx_b = (t_b - dshift) * inverse_scale.unsqueeze(-2) - (x_b / squash**2).unsqueeze(-2) * draw
    # merged by one gather (its gradient a scatter-add), cheaper than two indexed writes
    return torch.cat([y_a, x_b], -1).index_select(-1, module.merge), torch.cat([t_a, dx_b], -1).index_select(-1, module.merge)


class ZukoBijection(Bijection):
    """Standardize, then ``n_layers`` x (coupling on alternating halves, linear mixing).

    Args:
        dim: D, at least 2.
        n_layers: coupling blocks.
        coupling: "affine" (RealNVP-like) or "spline" (monotonic rational-quadratic, ``bins`` bins).
        linear: "lu" (LU-parametrised invertible matrix), "orthogonal" (exp of a skew matrix) or
            "none", between couplings, so that every coordinate eventually conditions every other.
        hidden: widths of the coupling networks.
    """

    def __init__(
        self,
        dim: int,
        n_layers: int = 4,
        *,
        coupling: Literal["affine", "spline"] = "affine",
        linear: Literal["lu", "orthogonal", "none"] = "lu",
        hidden: Sequence[int] = (64, 64),
        bins: int = 8,
    ) -> None:
        super().__init__()
        if dim < 2 or n_layers < 1:
            raise ValueError(f"a coupling flow needs dim >= 2 and n_layers >= 1, got {dim} and {n_layers}")
        if coupling not in ("affine", "spline") or linear not in ("lu", "orthogonal", "none"):
            raise ValueError(f"coupling must be affine or spline and linear lu, orthogonal or none; got {coupling}, {linear}")
        self.dim = dim
        if coupling == "affine":
            univariate, shapes = monotonic_affine, [(), ()]
        else:
            univariate, shapes = zuko.transforms.MonotonicRQSTransform, [(bins,), (bins,), (bins - 1,)]
        layers: list[nn.Module] = [Standardize(dim)]
        for i in range(n_layers):
            mask = torch.arange(dim) % 2 == i % 2
            layers.append(
                Coupling(dim, mask=mask, univariate=univariate, shapes=shapes, hidden_features=tuple(hidden))
            )
            if linear == "lu":
                layers.append(zuko.flows.UnconditionalTransform(LULinear, torch.eye(dim)))
            elif linear == "orthogonal":
                layers.append(zuko.flows.UnconditionalTransform(zuko.transforms.RotationTransform, torch.zeros(dim, dim)))
        self.layers = nn.ModuleList(layers)

    def transform(self) -> zuko.transforms.ComposedTransform:
        """The composed zuko transform x -> F(x)."""
        return zuko.transforms.ComposedTransform(*(layer() for layer in self.layers))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.transform().call_and_ladj(x)

    def inverse(self, y: torch.Tensor) -> torch.Tensor:
        return self.transform().inv(y)

    def initialize(self, x: torch.Tensor) -> None:
        """Data-dependent start: the first layer standardises x (n, D)."""
        self.layers[0].initialize(x.reshape(-1, self.dim))

    def inverse_with_tangents(self, y: torch.Tensor, tangents: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor] | None:
        """The layers' analytic forward-mode rules (``INVERSE_TANGENTS``), last layer first: affine
        couplings with ReLU networks, LU-linear layers and the standardisation (spline couplings and
        rotations have none: None)."""
        for layer in reversed(self.layers):
            rule = INVERSE_TANGENTS.get(type(layer))
            pushed = None if rule is None else rule(layer, y, tangents)
            if pushed is None:
                return None
            y, tangents = pushed
        return y, tangents
