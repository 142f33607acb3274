"""Issue 28: the ER bound's statement about distillation (seed 004, Rodriguez-Galvez et al. 2023) on
ground truth: BYOL maximises the reconstruction term of I[z; z'] >= H[z'] + < log q(z' | z) > and
keeps the entropy H[z'] stable. (Its other statement, that the ER objective in place of BYOL's is
competitive, is the library claim ``the-er-bound-recovers-what-byol-misses-on-the-sphere``.)"""

import pytest
import torch

from identifiability import ExperimentSpec, build
from identifiability.objectives import LogDet
from identifiability.training import Probe, train

STEPS, EVERY, HELD_OUT = 600, 100, 2000
# how much the reconstruction must rise, and the most the entropy may fall, in nats, for the statement to hold
RISES, STABLE = 0.5, 1.0


@pytest.fixture(scope="module")
def byol_terms() -> tuple[list[float], list[float]]:
    """The two terms of the ER bound on held-out pairs, at the start and every 100 steps of BYOL's
    training on vMF sphere pairs (d = 4, kappa 10, 3 layers, seed 0): the log-det entropy of the
    second views' codes, and the reconstruction, BYOL's own model's log-likelihood of the second view
    given the first (a vMF around the predictor's output)."""
    spec = ExperimentSpec.from_settings(process="sphere", latent_dim=4, objective="byol", steps=STEPS, seed=0, device="cpu")
    parts = build(spec)
    held = parts.data.sample(HELD_OUT, 999)
    entropy, reconstruction = [], []

    def look(encoder: torch.nn.Module, done: int, seconds: float) -> None:
        with torch.no_grad():
            codes = encoder(held.x.flatten(0, 1)).unflatten(0, (HELD_OUT, 2))
            entropy.append(float(LogDet()(codes[:, 1])))
            reconstruction.append(float(parts.objective.latent_model.log_prob(codes[:, 0], codes[:, 1]).mean()))

    parts.encoder.eval()
    look(parts.encoder, 0, 0.0)
    train(parts.encoder, parts.objective, parts.data, spec.training, seed=0, probe=Probe(EVERY, look))
    return entropy, reconstruction


def test_byol_raises_the_reconstruction_term(byol_terms):
    """Measured: -3.16 at the start, -2.11 from step 300 on (seeds 0 and 1 alike; sparse_resample at
    d = 5: -2.73 to -2.38)."""
    _, reconstruction = byol_terms
    assert reconstruction[-1] - reconstruction[0] >= RISES, reconstruction


# Measured (sphere, d = 4, kappa 10, 3 layers, 1500 steps, seeds 0 and 1; sparse_resample, d = 5, seed 0): the
# log-det entropy of BYOL's codes falls from -7.8, -7.4 and -5.7 nats at the start to -17.8, -19.7 and -20.6 at
# step 100 (the kNN estimate alike: -11.7 to -24.2 on seed 0) and ends at -16.6, -21.5 and -17.3: it is stable
# only after a fall of 9 to 15 nats in the first 100 steps, while the reconstruction rises. The codes shrink
# towards a small cap of the sphere, which is the partial collapse the BYOL claim's finding measures (affine
# R^2 0.54 against raw x 0.65).
@pytest.mark.xfail(strict=True, raises=AssertionError, reason="BYOL's code entropy falls by 9-15 nats in the first 100 "
                   "steps before it is stable (see the comment above)")
def test_byol_keeps_the_entropy_term_stable(byol_terms):
    entropy, _ = byol_terms
    assert min(entropy) >= entropy[0] - STABLE, entropy
