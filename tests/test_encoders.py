"""Issue 5: one contract over every encoder and block, plus the log-volume estimators."""

import io

import normflows as nf
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from identifiability.encoders import (
    BijectiveFlow,
    ConvEncoder,
    Encoder,
    Flattened,
    InjectiveFlow,
    LinearEncoder,
    MLPEncoder,
    NotInvertibleError,
    Standardize,
    from_normflows,
)


def perturbed(module, seed=0, scale=0.1):
    """Move every parameter off its initial value (zuko zero-initialises coupling outputs, which
    would make the tests pass through identities)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.add_(scale * torch.randn(p.shape, generator=gen, dtype=p.dtype))
    return module


def normflows_model(dim, layers=2):
    blocks = []
    for _ in range(layers):
        blocks += [nf.flows.AffineCouplingBlock(nf.nets.MLP([dim // 2, 16, 2 * (dim - dim // 2)])), nf.flows.Permute(dim, mode="swap")]
    return nf.NormalizingFlow(nf.distributions.DiagGaussian(dim), blocks)


flow_configs = st.fixed_dictionaries(
    {
        "coupling": st.sampled_from(["affine", "spline"]),
        "linear": st.sampled_from(["lu", "orthogonal", "none"]),
        "n_layers": st.integers(1, 3),
    }
)


def brute_force_jacobian(fn, points):
    return torch.stack([torch.autograd.functional.jacobian(fn, p) for p in points])


@settings(max_examples=15)
@given(dim=st.integers(2, 6), cfg=flow_configs, seed=st.integers(0, 1000))
def test_bijective_flows_round_trip_and_match_the_autograd_log_det(dim, cfg, seed):
    torch.manual_seed(seed)
    f = perturbed(BijectiveFlow(dim, hidden=(16,), **cfg).double(), seed)
    x = torch.randn(8, dim, dtype=torch.float64)
    z, log_volume = f.encode_with_log_volume(x)
    torch.testing.assert_close(f.decode(z), x, atol=1e-5, rtol=0)
    jac = brute_force_jacobian(f.encode, x)
    torch.testing.assert_close(log_volume, torch.linalg.slogdet(jac)[1], atol=1e-6, rtol=0)


@settings(max_examples=15)
@given(dims=st.integers(2, 7).flatmap(lambda big: st.tuples(st.just(big), st.integers(1, big))), cfg=flow_configs, seed=st.integers(0, 1000))
def test_injective_flows_round_trip_on_the_manifold_and_match_the_decoder_volume(dims, cfg, seed):
    big, small = dims
    torch.manual_seed(seed)
    f = perturbed(InjectiveFlow(big, small, hidden=(16,), likelihood="manifold", log_volume="exact", **cfg).double(), seed)
    z = torch.randn(6, small, dtype=torch.float64)
    with torch.no_grad():
        x = f.decode(z)  # a point of the manifold
    torch.testing.assert_close(f.encode(x), z, atol=1e-5, rtol=0)
    torch.testing.assert_close(f.decode(f.encode(x)), x, atol=1e-5, rtol=0)
    z_back, log_volume = f.encode_with_log_volume(x)
    jac = brute_force_jacobian(f.decode, z_back.detach())  # (n, D, d) at z = f(x)
    expected = -0.5 * torch.linalg.slogdet(jac.mT @ jac)[1]
    torch.testing.assert_close(log_volume, expected, atol=1e-6, rtol=0)


@settings(max_examples=10, deadline=None)
@given(dims=st.integers(2, 9).flatmap(lambda big: st.tuples(st.just(big), st.integers(1, big - 1))),
       linear=st.sampled_from(["lu", "none"]), seed=st.integers(0, 1000))
def test_the_analytic_tangents_give_the_autodiff_log_volume_and_its_gradients(dims, linear, seed):
    """Affine couplings with LU or no linear layers push the decoder's tangents by their own rules
    (one pass); the value and every gradient (parameters and x) equal those of torch.func's
    Jacobian of the decoder, which other bijections use."""
    from identifiability.encoders.log_volume import exact_log_volume

    big, small = dims
    torch.manual_seed(seed)
    f = perturbed(InjectiveFlow(big, small, hidden=(16, 16), linear=linear, likelihood="manifold", log_volume="exact").double(), seed)
    x = torch.randn(7, big, dtype=torch.float64, requires_grad=True)
    units = torch.eye(small, big, dtype=torch.float64).expand(7, -1, -1)
    assert f.bijection.inverse_with_tangents(torch.zeros(7, big, dtype=torch.float64), units) is not None
    results = []
    for route in ("rules", "autodiff"):
        lv = f.encode_with_log_volume(x)[1] if route == "rules" else exact_log_volume(f.decode, f.encode(x))
        grads = torch.autograd.grad(lv.sum(), [x, *f.parameters()], allow_unused=True)
        results.append((lv, [torch.zeros(()) if g is None else g for g in grads]))
    (lv_rules, g_rules), (lv_auto, g_auto) = results
    # the same float64 arithmetic in another order: rounding ~1e-15 per layer, through a Cholesky and a backward pass
    torch.testing.assert_close(lv_rules, lv_auto, atol=1e-9, rtol=1e-9)
    for a, b in zip(g_rules, g_auto):
        torch.testing.assert_close(a, b, atol=1e-8, rtol=1e-7)


@pytest.mark.parametrize("cfg", [{"coupling": "spline"}, {"linear": "orthogonal"}])
def test_bijections_without_tangent_rules_say_so(cfg):
    f = InjectiveFlow(6, 2, **cfg)
    assert f.bijection.inverse_with_tangents(torch.zeros(3, 6), torch.eye(2, 6).expand(3, -1, -1)) is None


def test_estimated_log_volume_has_the_exact_gradient_on_average():
    torch.manual_seed(0)
    f = perturbed(InjectiveFlow(5, 2, hidden=(16,), likelihood="manifold").double(), scale=0.1)
    with torch.no_grad():
        x = f.decode(torch.randn(32, 2, dtype=torch.float64))
    params = list(f.parameters())

    def gradient():
        _, lv = f.encode_with_log_volume(x)
        grads = torch.autograd.grad(lv.sum(), params, allow_unused=True)
        return torch.cat([(g if g is not None else torch.zeros_like(p)).flatten() for g, p in zip(grads, params)]), lv

    f.log_volume = "exact"
    exact, _ = gradient()
    f.log_volume = "estimated"
    draws = [gradient() for _ in range(60)]
    assert all(lv.abs().max() == 0 for _, lv in draws)  # a surrogate: only its gradient counts
    grads = torch.stack([g for g, _ in draws])
    # Unbiased: E|mean - exact|^2 = tr(Cov) / N, so the squared error in units of the squared
    # standard error is about 1; a bias of even 5% of the gradient would push it far past 10.
    squared_se = grads.var(0).sum() / len(grads)
    assert ((grads.mean(0) - exact) ** 2).sum() / squared_se < 10
    assert torch.nn.functional.cosine_similarity(grads.mean(0), exact, dim=0) > 0.99


def whitened_mlp():
    encoder = MLPEncoder(4, 2, (8,), whiten=True)
    gen = torch.Generator().manual_seed(1)
    encoder.initialize(torch.randn(64, 4, generator=gen) @ torch.randn(4, 4, generator=gen) + 3)
    return encoder


def every_encoder():
    torch.manual_seed(0)
    return {
        "bijective-affine": (perturbed(BijectiveFlow(4, hidden=(8,))), (4,)),
        "bijective-spline": (perturbed(BijectiveFlow(4, coupling="spline", hidden=(8,))), (4,)),
        "injective-inflated": (perturbed(InjectiveFlow(6, 2, hidden=(8,))), (6,)),
        "injective-exact": (perturbed(InjectiveFlow(6, 2, hidden=(8,), likelihood="manifold")), (6,)),
        "injective-estimated": (perturbed(InjectiveFlow(6, 2, hidden=(8,), likelihood="manifold", log_volume="estimated")), (6,)),
        "normflows": (perturbed(from_normflows(normflows_model(4), 4)), (4,)),
        "mlp": (MLPEncoder(4, 2, (8,), whiten=False), (4,)),
        "mlp-whitened": (whitened_mlp(), (4,)),
        "linear": (LinearEncoder(4, 2), (4,)),
        "conv": (ConvEncoder(2, 8, 3, width=4), (2, 8, 8)),
    }


@pytest.mark.parametrize("name", list(every_encoder()))
def test_every_encoder_honours_the_interface(name):
    encoder, shape = every_encoder()[name]
    assert isinstance(encoder, Encoder)
    x = torch.randn(5, 3, *shape)  # leading (batch, time) axes are kept
    z = encoder(x)
    assert z.shape == (5, 3, encoder.out_dim)
    torch.testing.assert_close(encoder.encode(x), z)
    if encoder.invertible:
        z2, lv = encoder.encode_with_log_volume(x)
        assert lv.shape == (5, 3) and torch.isfinite(lv).all()
        loss = z2.pow(2).sum() - lv.sum()
    else:
        with pytest.raises(NotInvertibleError):
            encoder.decode(z)
        with pytest.raises(NotInvertibleError):
            encoder.encode_with_log_volume(x)
        loss = z.pow(2).sum()
    loss.backward()
    missing = [n for n, p in encoder.named_parameters() if p.grad is None or not torch.isfinite(p.grad).all()]
    assert not missing, f"no gradient reached {missing}"


@pytest.mark.parametrize("name", list(every_encoder()))
def test_state_dict_round_trips(name):
    encoder, shape = every_encoder()[name]
    buffer = io.BytesIO()
    torch.save(encoder.state_dict(), buffer)
    fresh, _ = every_encoder()[name]
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():  # parameters zeroed, floating buffers (whitening, standardisation) drawn afresh
        for p in fresh.parameters():
            p.zero_()
        for b in fresh.buffers():
            if b.is_floating_point():
                b.copy_(torch.randn(b.shape, generator=gen, dtype=b.dtype))
    buffer.seek(0)
    fresh.load_state_dict(torch.load(buffer))
    x = torch.randn(4, *shape)
    torch.testing.assert_close(fresh(x), encoder(x))
    for (key, kept), (_, original) in zip(fresh.named_buffers(), encoder.named_buffers()):
        torch.testing.assert_close(kept, original, msg=key)
    assert name != "mlp-whitened" or any(b.is_floating_point() for b in encoder.buffers())  # the path is exercised


def test_normflows_float64_log_dets_come_back_in_float64_and_match_autograd():
    f = perturbed(from_normflows(normflows_model(4), 4).double())
    x = torch.randn(6, 4, dtype=torch.float64)
    z, lv = f.encode_with_log_volume(x)
    assert lv.dtype == torch.float64
    torch.testing.assert_close(lv, torch.linalg.slogdet(brute_force_jacobian(f.encode, x))[1], atol=1e-6, rtol=0)
    torch.testing.assert_close(f.decode(z), x, atol=1e-5, rtol=0)


def test_injective_flow_on_a_normflows_bijection_uses_the_fallback_jacobian():
    torch.manual_seed(1)
    base = perturbed(from_normflows(normflows_model(4), 4).double())
    f = InjectiveFlow(4, 2, bijection=base.bijection, likelihood="manifold")
    with torch.no_grad():
        x = f.decode(torch.randn(5, 2, dtype=torch.float64))
    z, lv = f.encode_with_log_volume(x)
    jac = brute_force_jacobian(f.decode, z.detach())
    torch.testing.assert_close(lv, -0.5 * torch.linalg.slogdet(jac.mT @ jac)[1], atol=1e-6, rtol=0)


@settings(max_examples=10, deadline=None)
@given(dims=st.integers(2, 7).flatmap(lambda big: st.tuples(st.just(big), st.integers(1, big - 1))), seed=st.integers(0, 2**31))
def test_an_inflated_flow_draws_the_noise_its_log_volume_would_and_takes_it_given(dims, seed):
    # the batched trainer draws each seed's noise outside vmap (draw_noise) and hands it in: the same codes,
    # log-volume and stream position as the flow drawing it itself
    big, small = dims
    torch.manual_seed(seed)
    flow = perturbed(InjectiveFlow(big, small, hidden=(8,), seed=seed).double(), seed)
    twin = InjectiveFlow(big, small, hidden=(8,), seed=seed).double()
    twin.load_state_dict(flow.state_dict())
    x = torch.randn(5, 3, big, dtype=torch.float64)
    flow.draws = twin.draws = 7
    drawn = twin.draw_noise(x.shape, x.device, x.dtype)
    for got, want in zip(twin.encode_with_log_volume(x, drawn), flow.encode_with_log_volume(x)):
        torch.testing.assert_close(got, want, rtol=0, atol=0)
    assert flow.draws == twin.draws == 8 and drawn.shape == x.shape
    # another draw is another log-volume: the noise is read, not drawn again
    assert not torch.equal(flow.encode_with_log_volume(x, drawn)[1], flow.encode_with_log_volume(x)[1])
    # frames draw their noise as their encoder of vectors would, shaped as the frames
    frames, twin_frames = Flattened(flow, (1, big)), Flattened(twin, (1, big))
    twin.draws = flow.draws
    noise = twin_frames.draw_noise((5, 3, 1, big), "cpu", torch.float64)
    for got, want in zip(twin_frames.encode_with_log_volume(x[..., None, :], noise), frames.encode_with_log_volume(x[..., None, :])):
        torch.testing.assert_close(got, want, rtol=0, atol=0)


def test_noise_is_refused_where_a_flow_draws_none_or_shaped_unlike_the_observations():
    x = torch.randn(4, 3)
    for wrong in (torch.randn(4, 2), torch.randn(4, 3, dtype=torch.float64)):
        with pytest.raises(ValueError, match="shaped, typed and placed as the observations"):
            InjectiveFlow(3, 2, hidden=(8,)).encode_with_log_volume(x, wrong)
    for flow in (InjectiveFlow(3, 3, hidden=(8,)), InjectiveFlow(3, 2, hidden=(8,), likelihood="manifold"), BijectiveFlow(3, hidden=(8,))):
        assert flow.draw_noise(x.shape, "cpu", x.dtype) is None
        with pytest.raises(ValueError, match="draws no noise"):
            flow.encode_with_log_volume(x, torch.randn(4, 3))
    assert MLPEncoder(3, 2, hidden=(8,), whiten=False).draw_noise(x.shape, "cpu", x.dtype) is None


def test_standardize_initialises_only_when_asked():
    layer = Standardize(3)
    x = 5 + 3 * torch.randn(4000, 3, generator=torch.Generator().manual_seed(0))
    before = [p.clone() for p in layer.parameters()]
    layer()(x)
    assert all(torch.equal(a, b) for a, b in zip(before, layer.parameters()))  # no side effect
    layer.initialize(x)
    y = layer()(x)
    torch.testing.assert_close(y.mean(0), torch.zeros(3), atol=1e-4, rtol=0)
    torch.testing.assert_close(y.std(0), torch.ones(3), atol=1e-4, rtol=0)


def test_bad_flow_configurations_are_rejected():
    with pytest.raises(ValueError, match="d <= D"):
        InjectiveFlow(3, 4)
    with pytest.raises(ValueError, match="log_volume"):
        InjectiveFlow(4, 2, log_volume="approximate")
    with pytest.raises(ValueError, match="coupling"):
        BijectiveFlow(4, coupling="neural")
    with pytest.raises(ValueError, match="dim >= 2"):
        BijectiveFlow(1)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_matches_cpu():
    torch.manual_seed(0)
    f = perturbed(InjectiveFlow(6, 3, hidden=(16,), likelihood="manifold").double())
    with torch.no_grad():
        x = f.decode(torch.randn(8, 3, dtype=torch.float64))
    z, lv = f.encode_with_log_volume(x)
    zc, lvc = f.cuda().encode_with_log_volume(x.cuda())
    torch.testing.assert_close(zc.cpu(), z)
    torch.testing.assert_close(lvc.cpu(), lv)


def test_half_log_det_gram_matches_slogdet_and_survives_singular_jacobians():
    from identifiability.encoders.log_volume import half_log_det_gram

    jac = torch.randn(7, 6, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    torch.testing.assert_close(half_log_det_gram(jac), 0.5 * torch.linalg.slogdet(jac.mT @ jac)[1])
    singular = jac.clone()
    singular[:2, :, 2] = singular[:2, :, 1]  # two samples with a collapsed direction
    values = half_log_det_gram(singular)
    assert torch.isfinite(values).all()  # the jitter keeps Cholesky alive: a large negative, not NaN
    assert (values[:2] < half_log_det_gram(jac)[:2] - 5).all()
    torch.testing.assert_close(values[2:], half_log_det_gram(jac)[2:])


@given(dim=st.integers(1, 8), seed=st.integers(0, 2**31), rows=st.integers(2, 6))
def test_whitening_makes_the_batch_covariance_the_identity(dim, seed, rows):
    # with no ridge the whitened batch has mean 0 and covariance I exactly; with the ridge r its
    # covariance's eigenvalues are lambda / (lambda + r), the batch covariance's shrunk towards 0
    from identifiability.encoders.whitening import Whitening

    gen = torch.Generator().manual_seed(seed)
    mixing = torch.eye(dim, dtype=torch.float64) + 0.5 * torch.randn(dim, dim, generator=gen, dtype=torch.float64)
    x = torch.randn(rows * 8 * dim, dim, generator=gen, dtype=torch.float64) @ mixing * 10 + 5
    exact = Whitening(dim, shrinkage=0.0).double()
    exact.fit(x)
    y = exact(x)
    # float64 eigh and products on at most 384 rows: rounding ~1e-13 times the covariance's condition
    # number (eye + 0.5 N(0, 1) mixings reach ~1e4 among Hypothesis' draws), well inside 1e-8
    torch.testing.assert_close(y.mean(0), torch.zeros(dim, dtype=torch.float64), atol=1e-8, rtol=0)
    torch.testing.assert_close(torch.cov(y.T).reshape(dim, dim), torch.eye(dim, dtype=torch.float64), atol=1e-8, rtol=0)
    ridged = Whitening(dim).double()
    ridged.fit(x)
    cov = torch.cov(x.T).reshape(dim, dim)
    values = torch.linalg.eigvalsh(cov)
    want = values / (values + 1e-3 * cov.trace() / dim)
    got = torch.linalg.eigvalsh(torch.cov(ridged(x).T).reshape(dim, dim))
    torch.testing.assert_close(got, want, atol=1e-8, rtol=1e-8)


@given(dim=st.integers(1, 6), seed=st.integers(0, 2**31))
def test_a_whitened_mlp_is_a_plain_mlp_with_the_whitening_folded_into_its_first_layer(dim, seed):
    # whitening reparametrises, it adds no functions: W0 ((x - m) M) + b0 = (W0 M) x + (b0 - W0 M m)
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    whitened = MLPEncoder(dim, 2, (8, 8), whiten=True).double()
    whitened.initialize(torch.randn(50, dim, generator=gen, dtype=torch.float64) * 3 + 1)
    plain = MLPEncoder(dim, 2, (8, 8), whiten=False).double()
    plain.load_state_dict({k: v for k, v in whitened.state_dict().items() if k.startswith("net.")})
    with torch.no_grad():
        folded = whitened.net[0].weight @ whitened.whitening.matrix.T
        plain.net[0].weight.copy_(folded)
        plain.net[0].bias.copy_(whitened.net[0].bias - folded @ whitened.whitening.mean)
    x = torch.randn(20, dim, generator=gen, dtype=torch.float64)
    # the same float64 products in another order: rounding ~1e-15 through three small layers
    torch.testing.assert_close(plain(x), whitened(x), atol=1e-10, rtol=1e-10)


def test_a_whitened_encoder_saves_its_whitening():
    # the round trip above rebuilds the same fitted encoder; an unfitted one (the identity) must get
    # the mean and matrix from the state dict, or it encodes differently
    fitted, fresh = whitened_mlp(), MLPEncoder(4, 2, (8,), whiten=True)
    fresh.load_state_dict(fitted.state_dict())
    x = torch.randn(6, 4, generator=torch.Generator().manual_seed(2))
    torch.testing.assert_close(fresh(x), fitted(x))


def test_whitening_refuses_what_it_cannot_whiten_and_survives_flat_batches():
    from identifiability.encoders.whitening import Whitening

    with pytest.raises(ValueError, match="NaN or infinite"):
        Whitening(3).fit(torch.tensor([[0.0, 1.0, float("nan")], [1.0, 2.0, 3.0]]))
    with pytest.raises(ValueError, match="at least 2 rows"):
        Whitening(3).fit(torch.ones(1, 3))
    for seed in range(200):  # 3 rows span 2 directions of 5; eigh's zeros come out with either sign
        with pytest.raises(ValueError, match="shrinkage > 0"):
            Whitening(5, shrinkage=0.0).fit(torch.randn(3, 5, generator=torch.Generator().manual_seed(seed)))
    few = Whitening(5)
    few.fit(torch.randn(3, 5, generator=torch.Generator().manual_seed(0)))  # the ridge fills the rest
    assert torch.isfinite(few.matrix).all()
    flat = MLPEncoder(3, 2, (4,), whiten=True)
    flat.initialize(torch.full((10, 3), 7.0))  # a constant input is centred, not divided by zero
    torch.testing.assert_close(flat.whitening.matrix, torch.eye(3))
    assert torch.isfinite(flat(torch.randn(4, 3))).all()
    with pytest.raises(ValueError, match="whiten must be True or False"):
        MLPEncoder(3, 2, (4,), whiten="yes")


def test_the_mlp_part_whitens_on_the_start_batch_unless_told_not_to():
    from identifiability import ExperimentSpec
    from identifiability.experiment import build, initialize

    spec = ExperimentSpec.from_settings(latent_dim=3, seed=0)
    parts = build(spec)
    batch = initialize(parts, spec)
    from identifiability.encoders.whitening import Whitening

    on_the_batch = Whitening(3)
    on_the_batch.fit(batch.x)
    # the same float64 fit, stored in float32: BLAS may round its last bit differently with the buffers'
    # alignment, so one float32 ulp; a fit on any other batch differs in the second digit
    torch.testing.assert_close(parts.encoder.whitening.matrix, on_the_batch.matrix, atol=1e-7, rtol=2e-7)
    whitened = parts.encoder.whitening(batch.x.flatten(0, 1))  # the ridge shrinks small directions by ~1e-3
    torch.testing.assert_close(torch.cov(whitened.T.double()), torch.eye(3, dtype=torch.float64), atol=1e-2, rtol=0)
    assert build(ExperimentSpec.from_settings(latent_dim=3, seed=0, whiten=False)).encoder.whitening is None
