"""The local process pool: fork only where no thread pool can be inherited mid-lock."""
import pytest


def test_a_pool_made_after_jax_ran_is_spawned_and_gives_the_same_certificate():
    """jax's thread pools are native (``threading`` does not see them): forking then could deadlock."""
    import subprocess
    import sys

    pytest.importorskip("jax")
    code = ("import jax.numpy as jnp; jnp.ones(3).sum().block_until_ready()\n"
            "import dataclasses, multiprocessing as mp\n"
            "from unittest import mock\n"
            "from attnreg.verify import executor as E\n"
            "from attnreg.verify.certify import bnb, certificate, spec\n"
            "s = dataclasses.replace(spec.load('docs/examples/certify-f.toml'), refine_to=None)\n"
            "seen = []\n"
            "real = mp.get_context\n"
            "with mock.patch.object(mp, 'get_context', lambda m=None: seen.append(m) or real(m)):\n"
            "    with E.executor(workers=2, start_after=0) as pool:\n"
            "        two = certificate.dumps(certificate.build(bnb.run(s, pool)))\n"
            "one = certificate.dumps(certificate.build(bnb.run(s)))\n"
            "print(seen, one == two)\n")
    root = __import__("pathlib").Path(__file__).resolve().parent.parent
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "['spawn'] True"


def test_a_run_shorter_than_the_start_up_starts_no_worker():
    """The grad target without refine_to is one box: a second worker cannot help, so none is started (a
    pool must never make a run slower than this process alone by more than its start-up); the certificate
    is the same."""
    import dataclasses
    from pathlib import Path

    from attnreg.verify.certify import bnb, certificate, spec
    from attnreg.verify.executor import executor

    path = Path(__file__).resolve().parent.parent / "docs" / "examples" / "certify-grad.toml"
    s = dataclasses.replace(spec.load(path), refine_to=None)
    one = certificate.dumps(certificate.build(bnb.run(s)))
    with executor(2) as pool:
        two = certificate.dumps(certificate.build(bnb.run(s, pool)))
        assert not pool.started and "only this process ran" in pool.kind
    assert one == two
    s = dataclasses.replace(spec.load(path), refine_to="1.1")
    one = certificate.dumps(certificate.build(bnb.run(s)))
    with executor(2, start_after=0.001) as pool:  # 271 boxes: started once a millisecond of work is done
        two = certificate.dumps(certificate.build(bnb.run(s, pool)))
        assert pool.started and pool.alone >= 0.001
    assert one == two
