import pytest
import torch

from m2d import threads


def test_torch_threads_sets_and_restores():
    before = torch.get_num_threads()
    with threads.torch_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    with threads.torch_threads(None):            # None leaves the setting alone
        assert torch.get_num_threads() == before
    with pytest.raises(ValueError, match="positive number of threads"):
        with threads.torch_threads(0):
            pass
    assert torch.get_num_threads() == before


def test_one_blas_thread_limits_blas_inside_the_block():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    with threads.one_blas_thread():
        blas = [p for p in threadpoolctl.threadpool_info() if p["user_api"] == "blas"]
        assert all(p["num_threads"] == 1 for p in blas)
