import os

import torch
from hypothesis import HealthCheck, settings
from threadpoolctl import threadpool_limits

# Tests run on CPU with few threads; deadlines would make timing noise fail property tests.
settings.register_profile("default", deadline=None, max_examples=40, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("default")
# One thread per test process (pytest-xdist runs one process per core): torch's, the BLAS's under numpy
# and scipy (kernel ridges, FastICA), and, through the environment, those of every subprocess a test
# starts (command-line runs, pytester's pytest); threads of two processes fighting over 2 cores made
# each 2-3x slower. A test that measures another thread count sets it in its subprocess's environment.
torch.set_num_threads(1)
threadpool_limits(1)
os.environ.setdefault("OMP_NUM_THREADS", "1")
