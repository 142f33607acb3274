import torch
from hypothesis import HealthCheck, settings

# Tests run on CPU with few threads; deadlines would make timing noise fail property tests.
settings.register_profile("default", deadline=None, max_examples=40, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("default")
torch.set_num_threads(1)
