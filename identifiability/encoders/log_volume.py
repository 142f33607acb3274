"""The log-volume term of an injective map on its data manifold: -(1/2) log det(J_g^T J_g)."""

from __future__ import annotations

import weakref
from collections.abc import Callable

import torch

Decoder = Callable[[torch.Tensor], torch.Tensor]


# What is known of a decoder (or of the module whose bound method it is): "rowwise" once seen to
# keep the rows of a batch apart, "untraceable" once torch.func failed on it where it runs plainly.
_KNOWN: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _facts(decode: Decoder) -> set[str]:
    """The mutable set of facts known of ``decode`` (a fresh, forgotten set where it cannot be
    weakly referenced)."""
    owner = getattr(decode, "__self__", decode)
    try:
        return _KNOWN.setdefault(owner, set())
    except TypeError:
        return set()


def _check_rows_apart(decode: Decoder, z: torch.Tensor, facts: set[str]) -> None:
    """Refuse a decoder whose output for a row depends on the other rows of the batch (it centres
    or normalises the batch, say): a per-row Jacobian means nothing for it, and traced one row at a
    time it silently gives a wrong one. Checked once per decoder, on two rows."""
    rows = z[:2].detach()
    if "rowwise" in facts or len(rows) < 2:
        return
    with torch.no_grad():
        alone, together = decode(rows[:1]), decode(rows)[:1]
    # rows apart agree to rounding (batched float32 products differ by 1e-7); coupled rows by O(1)
    if not torch.allclose(alone, together, rtol=1e-4, atol=1e-4 * float(together.abs().max())):
        raise ValueError(
            "the decoder's output for a row depends on the other rows of the batch (it couples rows, e.g. by "
            "centring the batch): its log-volume is not defined row by row"
        )
    facts.add("rowwise")


def decoder_jacobian(decode: Decoder, z: torch.Tensor) -> torch.Tensor:
    """(n, D, d) Jacobians of ``decode`` at the rows of z (n, d), by batched forward-mode
    differentiation (d JVPs); for decoders that torch.func cannot trace (e.g. normflows' layers,
    which index with boolean masks and write in place), by d double-backward JVPs, a loop over
    latent dimensions, never over samples. It falls back only where torch.func fails on a decoder
    that runs plainly (and remembers it); any other error, running out of memory included, is
    raised. A decoder that couples the rows of a batch is refused."""
    facts = _facts(decode)
    _check_rows_apart(decode, z, facts)
    if "untraceable" not in facts:
        try:
            return torch.vmap(torch.func.jacfwd(decode))(z)
        except (RuntimeError, NotImplementedError) as error:
            if isinstance(error, torch.OutOfMemoryError):
                raise
            try:  # does the decoder itself run? then the failure was torch.func's
                with torch.no_grad():
                    decode(z[:2].detach())
            except Exception:
                raise error from None
            facts.add("untraceable")
    basis = torch.eye(z.shape[1], dtype=z.dtype, device=z.device)
    return torch.stack([jvp_by_double_backward(decode, z, e.expand_as(z)) for e in basis], -1)


def jvp_by_double_backward(decode: Decoder, z: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """J_g(z) v for (n, d) z and v through two reverse passes; differentiable in z and parameters."""
    z = z if z.requires_grad else z.detach().requires_grad_()
    x = decode(z)
    u = torch.zeros_like(x, requires_grad=True)
    (vjp,) = torch.autograd.grad(x, z, u, create_graph=True)
    (jvp,) = torch.autograd.grad(vjp, u, v, create_graph=True)
    return jvp


def half_log_det_gram(jac: torch.Tensor) -> torch.Tensor:
    """(1/2) log det(J^T J) of (n, D, d) Jacobians -> (n,), by Cholesky; where J^T J is not
    numerically positive definite, a jitter of 1e-10 times its mean eigenvalue is added. Both
    factorisations are taken and the right one kept per row, so the host never reads the flags."""
    gram = jac.mT @ jac
    chol, info = torch.linalg.cholesky_ex(gram)
    jitter = 1e-10 * gram.diagonal(dim1=-2, dim2=-1).mean(-1)[:, None, None]
    eye = torch.eye(gram.shape[-1], dtype=gram.dtype, device=gram.device)
    chol = torch.where((info > 0)[:, None, None], torch.linalg.cholesky_ex(gram + jitter * eye)[0], chol)
    return chol.diagonal(dim1=-2, dim2=-1).log().sum(-1)


def exact_log_volume(decode: Decoder, z: torch.Tensor) -> torch.Tensor:
    """-(1/2) log det(J_g^T J_g) at z (n, d) -> (n,), differentiable in z and the decoder."""
    return -half_log_det_gram(decoder_jacobian(decode, z))


def estimated_log_volume(
    decode: Decoder, z: torch.Tensor, *, generator: torch.Generator | None = None, probes: int = 1, tol: float = 1e-8
) -> torch.Tensor:
    """A gradient surrogate of -(1/2) log det(J_g^T J_g) at z (n, d) -> (n,): its value is 0,
    its gradient (in the decoder's parameters and in z) is an unbiased estimate of the true one.

    Hutchinson: grad (1/2) log det G = tr(G^{-1} J^T dJ) = E_v[a^T J^T dJ v] with G = J^T J, v Rademacher
    and a = G^{-1} v solved by batched conjugate gradients from matrix-free products
    G u = J^T (J u) (one JVP and one VJP each, at most d iterations), so no d x D Jacobian is formed.
    """
    n, d = z.shape
    total = z.new_zeros(n)
    z_const = z.detach()

    def gram_times(u: torch.Tensor) -> torch.Tensor:
        ju = torch.func.jvp(decode, (z_const,), (u,))[1]
        return torch.func.vjp(decode, z_const)[1](ju)[0]

    for _ in range(probes):
        v = torch.randint(0, 2, (n, d), generator=generator, device=z.device).to(z.dtype) * 2 - 1  # Rademacher
        with torch.no_grad():
            a = _conjugate_gradients(gram_times, v, iterations=d, tol=tol)
            w = torch.func.jvp(decode, (z_const,), (a,))[1]  # J a
        jv = torch.func.jvp(decode, (z,), (v,))[1]  # J v, with the graph to z and the parameters
        surrogate = (w * jv).flatten(1).sum(-1)
        total = total - (surrogate - surrogate.detach())
    return total / probes


def _conjugate_gradients(matvec: Callable[[torch.Tensor], torch.Tensor], b: torch.Tensor, iterations: int, tol: float) -> torch.Tensor:
    """Solve A x = b for a batch of SPD systems given x -> A x on (n, d) rows."""
    x = torch.zeros_like(b)
    r = b.clone()
    p = r.clone()
    rr = (r * r).sum(-1, keepdim=True)
    threshold = tol**2 * rr
    for _ in range(iterations):
        ap = matvec(p)
        alpha = rr / (p * ap).sum(-1, keepdim=True).clamp_min(torch.finfo(b.dtype).tiny)
        x = x + alpha * p
        r = r - alpha * ap
        rr_new = (r * r).sum(-1, keepdim=True)
        if (rr_new <= threshold).all():
            break
        p = r + (rr_new / rr) * p
        rr = rr_new
    return x
