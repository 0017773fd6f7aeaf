"""Branch-and-bound boxes on a Dask cluster (``--scheduler``): the same certificate as in one process."""
import dataclasses
import json
from pathlib import Path

import pytest

from attnreg.cli import main
from attnreg.verify.certify import bnb, certificate, spec
from attnreg.verify.executor import ExecutorError, executor

distributed = pytest.importorskip("distributed")

EXAMPLES = Path(__file__).resolve().parent.parent / "docs" / "examples"


def _cluster(processes):
    return distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=processes, dashboard_address=None)


def test_local_cluster_gives_the_same_certificate(tmp_path, capsys):
    s = dataclasses.replace(spec.load(EXAMPLES / "certify-f.toml"), target="0.6")
    local = certificate.dumps(certificate.build(bnb.run(s)))
    with _cluster(processes=False) as cluster:
        with executor(scheduler=cluster.scheduler_address) as pool:
            assert pool.slots == 2
            remote = certificate.dumps(certificate.build(bnb.run(s, pool)))
        out = tmp_path / "cert.json"
        assert main(["certify", "run", str(EXAMPLES / "certify-f.toml"), "--out", str(out),
                     "--scheduler", cluster.scheduler_address]) == 0
    assert remote == local
    assert json.loads(out.read_text())["status"] == "certified"
    assert "on dask" in capsys.readouterr().out


@pytest.mark.slow
def test_local_cluster_with_worker_processes():
    s = dataclasses.replace(spec.load(EXAMPLES / "certify-f.toml"), target="0.6")
    local = certificate.dumps(certificate.build(bnb.run(s)))
    with _cluster(processes=True) as cluster, executor(scheduler=cluster.scheduler_address) as pool:
        assert certificate.dumps(certificate.build(bnb.run(s, pool))) == local


def test_unreachable_scheduler_is_a_clear_error():
    with pytest.raises(ExecutorError, match="cannot reach the Dask scheduler"):
        with executor(scheduler="tcp://127.0.0.1:1", timeout=1):
            pass
