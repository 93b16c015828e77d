"""The optimisation tests run tiny tensors: a second intra-op thread only adds synchronisation on a busy
2-core machine (six NAdam steps measured 1.3 s with two threads against 30 ms with one)."""

import pytest
import torch


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
