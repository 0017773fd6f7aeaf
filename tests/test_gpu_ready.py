"""GPU readiness without a GPU: the production path on torch tensors keeps them where they are.

On a CUDA device every ``.cpu()``, ``.numpy()``, ``np.asarray(t)``, ``.tolist()`` or ``.to(<device>)`` of
an array is a host round trip, and every scalar read (``bool(t)``, ``float(t)``, ``.item()``) is a device
synchronisation. A :class:`torch.overrides.TorchFunctionMode` sees every torch call made while it is active,
on CPU exactly as on CUDA, so the test runs here:

* **bulk transfers** (the methods above, ``__dlpack__``) are never allowed;
* **factories without a device** (``torch.zeros(...)`` and friends with no ``device=`` and no tensor input)
  are not allowed: on a GPU they land on the default device, and a 0-d CPU tensor mixes silently with CUDA
  tensors (a hidden transfer);
* **scalar reads** are allowed only at the public boundary: their number may not grow with the number of
  row blocks, and is at most one per input array (the finiteness check of the bad-input policy);
* **the per-block flags** (a 1-D boolean tensor, one entry per block) may be read once, after the sweep, on
  a call where some block was flagged: those blocks are then redone by the stable kernels.
"""
from __future__ import annotations

import collections

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from torch.overrides import TorchFunctionMode  # noqa: E402

import attnreg  # noqa: E402
import attnreg._fastsweep  # noqa: E402

BULK = {"cpu", "cuda", "numpy", "tolist", "__array__", "__dlpack__"}
SCALAR = {"__bool__", "__float__", "__int__", "__index__", "item"}
FACTORIES = {"zeros", "ones", "empty", "full", "eye", "arange", "linspace", "tensor", "asarray", "as_tensor",
             "scalar_tensor", "rand", "randn"}


class HostGuard(TorchFunctionMode):
    """Records host transfers, device-less factories and scalar reads; computes everything as usual."""

    def __init__(self):
        super().__init__()
        self.bulk, self.factories, self.scalars, self.flag_reads = [], [], collections.Counter(), 0

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        name = getattr(func, "__name__", str(func))
        if name == "tolist" and args[0].dtype == torch.bool and args[0].ndim == 1:
            self.flag_reads += 1  # the per-block flags, read once after the sweep when a block was flagged
        elif name in BULK:
            self.bulk.append(name)
        elif name == "to" and ("device" in kwargs or any(isinstance(a, (str, torch.device)) for a in args[1:])):
            self.bulk.append(f"to({args[1:]}, {kwargs})")
        elif name in SCALAR:
            self.scalars[name] += 1
        elif (name in FACTORIES and "device" not in kwargs
              and not any(isinstance(a, torch.Tensor) for a in args)):
            self.factories.append(name)
        return func(*args, **kwargs)


@pytest.fixture(autouse=True)
def as_on_a_device(monkeypatch):
    """CPU tensors take NumPy views of their memory (:func:`attnreg._fastsweep.host_views`); tensors on a
    device cannot, and this test runs the path they take."""
    monkeypatch.setattr(attnreg._fastsweep, "host_views", lambda torch, *arrays: None)


def problem(n=48, d=3, dtype=torch.float64, seed=0):
    rng = np.random.default_rng(seed)
    A1, A2 = rng.standard_normal((n, d)), rng.standard_normal((n, d))
    X, V = rng.standard_normal((d, d)), rng.standard_normal((d, d))
    B = rng.dirichlet(np.ones(n), size=n)
    return [torch.asarray(a, dtype=dtype) for a in (A1, A2, B, X, V)]


def guarded(call, block_rows):
    with HostGuard() as guard:
        out = call(block_rows)
    return guard, out


CALLS = {
    "loss": lambda A1, A2, B, X, V, v: lambda br: attnreg.loss(A1, A2, B, X, version=v, block_rows=br),
    "log_loss": lambda A1, A2, B, X, V, v: lambda br: attnreg.log_loss(A1, A2, B, X, version=v, block_rows=br),
    "grad": lambda A1, A2, B, X, V, v: lambda br: attnreg.grad(A1, A2, B, X, version=v, block_rows=br),
    "loss_and_grad": lambda A1, A2, B, X, V, v: lambda br: attnreg.loss_and_grad(A1, A2, B, X, version=v,
                                                                                 block_rows=br),
    "hvp": lambda A1, A2, B, X, V, v: lambda br: attnreg.hvp(A1, A2, B, X, V, version=v, block_rows=br),
}
N_INPUTS = {"loss": 4, "log_loss": 4, "grad": 4, "loss_and_grad": 4, "hvp": 5}


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("version", attnreg.VERSIONS)
@pytest.mark.parametrize("name", list(CALLS))
def test_matrix_form_keeps_tensors_on_their_device(name, version, dtype):
    arrays = problem(dtype=dtype)
    call = CALLS[name](*arrays, version)
    one, out_one = guarded(call, 48)      # one block
    many, out_many = guarded(call, 5)     # ten blocks: anything inside the row loop shows up ten times
    for guard in (one, many):
        assert guard.bulk == [], f"host transfers in attnreg.{name}: {guard.bulk}"
        assert guard.factories == [], f"tensors created without a device in attnreg.{name}: {guard.factories}"
        assert guard.flag_reads <= 1
    assert many.scalars == one.scalars, f"scalar reads grow with the number of blocks: {one.scalars} -> {many.scalars}"
    assert sum(one.scalars.values()) <= N_INPUTS[name], f"scalar reads beyond the boundary checks: {one.scalars}"
    for out in (out_one, out_many):
        for t in out if isinstance(out, tuple) else (out,):
            assert isinstance(t, torch.Tensor) and t.dtype == dtype and t.device == arrays[0].device


@pytest.mark.parametrize("version", attnreg.VERSIONS)
def test_vector_form_keeps_tensors_on_their_device(version):
    A1, _, B, X, V = problem(n=40, d=3)
    A, b, x, v = A1, B[0], X[0], V[0]
    with HostGuard() as guard:
        attnreg.vector.loss_and_grad(A, b, x, version=version)
        attnreg.vector.hvp(A, b, x, v, version=version)
    assert guard.bulk == [] and guard.factories == []
    assert sum(guard.scalars.values()) <= 2 * 4


def test_the_guard_catches_what_it_claims():
    """Each kind of violation is seen (a guard that sees nothing would pass every test above)."""
    t = torch.ones(3, dtype=torch.float64)
    with HostGuard() as guard:
        t.cpu(), t.numpy(), t.tolist(), np.asarray(t), t.to("cpu"), t.to(device=t.device)
        for _ in range(3):
            float(t.sum()), bool(t.sum() > 0), t.sum().item()
        torch.zeros(3), torch.asarray([1.0]), torch.zeros(3, device=t.device), torch.zeros_like(t)
    assert guard.bulk[:4] == ["cpu", "numpy", "tolist", "__array__"] and len(guard.bulk) == 6
    assert guard.scalars == {"__float__": 3, "__bool__": 3, "item": 3}
    assert guard.factories == ["zeros", "asarray"]
