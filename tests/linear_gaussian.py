"""A brute-force reference for the tests of the Kalman filter: the joint covariance of a linear-Gaussian
state model's observations, built block by block."""

import torch


def sequence_covariance(a: torch.Tensor, q: torch.Tensor, r: torch.Tensor, steps: int) -> torch.Tensor:
    """Cov(y_1..y_T), (T d, T d), for s_1 ~ N(0, I), s_{t+1} = A s_t + N(0, Q), y_t = s_t + N(0, R):
    Cov(y_t, y_u) = A^(t-u) P_u for t >= u, P_1 = I, P_t = A P_{t-1} A^T + Q, and R on the diagonal."""
    d = a.shape[0]
    p = [torch.eye(d, dtype=torch.float64)]
    for _ in range(steps - 1):
        p.append(a @ p[-1] @ a.T + q)
    cov = torch.zeros(steps * d, steps * d, dtype=torch.float64)
    for t in range(steps):
        for u in range(t + 1):
            block = torch.linalg.matrix_power(a, t - u) @ p[u]
            cov[t * d:(t + 1) * d, u * d:(u + 1) * d] = block
            cov[u * d:(u + 1) * d, t * d:(t + 1) * d] = block.T
    return cov + torch.block_diag(*[r] * steps)
