"""The claims checker never overclaims and never crashes: constants that are violated outright, undefined
constants, deep or huge files, wording of lower bounds, slack of proved claims, growth in n, determinism
for a seed on a loaded machine, and rounds that any executor can run."""
import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from attnreg.cli import main
from attnreg.verify.claims import check_claim, claimfile, search, to_json, verdict

BASE = """\
[[claim]]
id = "c"
provenance = "derived"
form = "vector"
quantity = "alpha"
kind = "upper"
assume = ["norm(A) <= R", "norm(x) <= R"]
"""


def _claim(**kw):
    table = dict(id="c", provenance="derived", form="vector", quantity="alpha", kind="upper",
                 assume=["norm(A) <= R", "norm(x) <= R"])
    table.update(kw)
    return claimfile.from_table(table, "test.toml")


def _one_line_exit_2(argv, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    return err


def test_constant_zero_is_refuted_with_slack_0(tmp_path):
    o = check_claim(_claim(constant="0"), budget=0.2, seed=0, out_dir=tmp_path)
    assert o.status == "refuted" and o.worst["slack"] == 0.0 and "ratio inf" in o.evidence, o.evidence


@pytest.mark.parametrize("constant", ["log(R-10)", "R/(R-R)"])
def test_constant_undefined_everywhere_says_so(constant, tmp_path):
    o = check_claim(_claim(constant=constant), budget=0.2, seed=0, out_dir=tmp_path)
    assert o.status == "error" and "undefined at every (n, d, R)" in o.evidence and "assumptions" not in o.evidence


@pytest.mark.parametrize("nested", ["x = " + "[" * 5000 + "]" * 5000, "x = " + "{a = " * 3000 + "1" + "}" * 3000],
                         ids=["arrays", "inline-tables"])
def test_deeply_nested_toml_is_one_line(nested, tmp_path, capsys):
    path = tmp_path / "deep.toml"
    path.write_text(nested + "\n")
    assert "nested too deeply" in _one_line_exit_2(["claims", "check", str(path)], capsys)


def _counterexample(tmp_path):
    o = check_claim(_claim(constant="exp(R**2)"), budget=0.3, seed=0, out_dir=tmp_path)
    assert o.status == "refuted"
    return json.loads((tmp_path / "counterexample-c.json").read_text())


def test_replay_refuses_nan_deep_and_huge_inputs_at_once(tmp_path, capsys):
    data = _counterexample(tmp_path)
    nan = json.loads(json.dumps(data))
    nan["inputs"]["A"][0][0] = float("nan")
    (tmp_path / "nan.json").write_text(json.dumps(nan))  # json writes the literal NaN
    (tmp_path / "deep.json").write_text("[" * 100000 + "]" * 100000)
    huge = json.loads(json.dumps(data))
    huge["params"]["n"] = 5000  # past the search's largest vector n (4096): replay would take minutes
    huge["inputs"]["A"] = [[0.0] * huge["params"]["d"]] * 5000
    (tmp_path / "huge.json").write_text(json.dumps(huge))
    for name, needle in (("nan.json", "NaN"), ("deep.json", "nested too deeply"), ("huge.json", "n = 5000")):
        assert needle in _one_line_exit_2(["claims", "replay", str(tmp_path / name)], capsys)


def test_unwritable_out_folder(tmp_path, capsys, monkeypatch):
    import os

    path = tmp_path / "c.toml"
    path.write_text(BASE + 'constant = "exp(R**2)"\n')
    real = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if str(p) == str(tmp_path) else real(p, mode))
    assert "not writable" in _one_line_exit_2(["claims", "check", str(path), "--out", str(tmp_path)], capsys)
    monkeypatch.setattr(os, "access", real)

    def refuse(*a, **k):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(verdict, "atomic_write_text", refuse)  # the folder became unwritable during the run
    o = check_claim(_claim(constant="exp(R**2)"), budget=0.3, seed=0, out_dir=tmp_path)
    assert o.status == "refuted" and "could not be written" in o.evidence and o.counterexample is None


def test_lower_bound_refutation_reads_less_than(tmp_path):
    o = check_claim(_claim(kind="lower", constant="n*exp(-R**2/2)"), budget=1.0, seed=0, out_dir=tmp_path)
    assert o.status == "refuted" and "the value = " in o.evidence
    value, constant = (float(o.evidence.split(f"{w} = ")[1].split()[0].rstrip(",")) for w in ("the value", "constant"))
    assert value < constant and f"{o.record['lhs'][:12]} < the constant" in o.evidence


def test_proved_claim_never_shows_slack_below_1(tmp_path, monkeypatch):
    """A tight proved bound: float64 rounding puts the observed ratio a few ulps above the constant."""
    claim = _claim(quantity="f", kind="lipschitz", wrt="x", constant="R/2")
    real = search.search

    def rounded_up(claim, **kw):
        result = real(claim, **kw)
        for b in result.bests:
            if b.v is not None:
                b.obs = b.pt.K * (1 + 4e-16)  # what rounding did in the adversarial review: slack 0.9999999999999993
        return result

    monkeypatch.setattr(search, "search", rounded_up)
    o = check_claim(claim, budget=0.2, seed=0, out_dir=tmp_path)
    assert o.status == "proved" and o.worst["slack"] == 1.0 and all(s >= 1 for _, s in o.slack_by_R), o.evidence
    assert "rounding at a tight bound" in o.evidence


# sup of the local ratio of α(X) (matrix form, d = 1, ||A1 ⊗ A2|| ≤ R, |X| ≤ R) is √n·R·e^{R²}, approached at
# X → 0, R → 0 with every logit equal: the constant √30·R·e^{R²} holds for n ≤ 30 and fails for every n ≥ 31.
FAILS_FROM_31 = dict(form="matrix", quantity="alpha", kind="lipschitz", wrt="X", constant="sqrt(30)*R*exp(R**2)",
                     assume=["norm(kron(A1,A2)) <= R", "norm(X) <= R", "d <= 1"])


def test_matrix_alpha_lipschitz_missing_sqrt_n_is_refuted(tmp_path):
    """The adversarial review's case: 4.5·R·e^{R²} lacks a √n and fails for n ≥ 23; the old matrix grid
    stopped at n = 12 and reported "survived" with slack 1.358."""
    claim = _claim(**dict(FAILS_FROM_31, constant="4.5*R*exp(R**2)", assume=FAILS_FROM_31["assume"][:2]))
    o = check_claim(claim, budget=1.0, seed=0, out_dir=tmp_path)
    assert o.status == "refuted" and o.record["params"]["n"] >= 23, o.evidence


def test_claim_failing_only_beyond_n_30_is_refuted_without_an_n_assumption(tmp_path):
    o = check_claim(_claim(**FAILS_FROM_31), budget=1.0, seed=0, out_dir=tmp_path)
    assert o.status == "refuted" and o.record["params"]["n"] > 30, o.evidence


@pytest.mark.slow
def test_claim_failing_only_beyond_n_30_at_the_default_budget_and_true_below(tmp_path):
    o = check_claim(_claim(**FAILS_FROM_31), budget=5.0, seed=1, out_dir=tmp_path)
    assert o.status == "refuted" and o.record["params"]["n"] > 30, o.evidence
    below = dict(FAILS_FROM_31, assume=FAILS_FROM_31["assume"] + ["n <= 30"])
    o = check_claim(_claim(**below), budget=5.0, seed=1, out_dir=tmp_path)
    assert o.status in ("proved", "survived") and "searched up to n ≤ 30" in o.evidence, o.evidence


def test_growth_in_n_extends_the_grid(tmp_path):
    """A constant √120·R·e^{R²} fails only for n > 120, beyond the matrix grid (n ≤ 48): the growth step
    extrapolates the ratio's √n growth and goes there."""
    claim = _claim(**dict(FAILS_FROM_31, constant="sqrt(120)*R*exp(R**2)"))
    o = check_claim(claim, budget=1.0, seed=0, out_dir=tmp_path)
    assert o.status == "refuted" and o.record["params"]["n"] > 120 and "grid extended in n" in o.evidence, o.evidence


def test_surviving_claim_says_how_far_it_was_searched(tmp_path):
    o = check_claim(_claim(constant="n*exp(R**2)"), budget=0.2, seed=0, out_dir=tmp_path)
    assert o.status in ("proved", "survived") and "searched up to n ≤ 256, d ≤ 4, R ≤ 3" in o.evidence


def test_rounds_run_on_any_executor_with_the_same_result():
    claim = _claim(quantity="f", kind="lipschitz", wrt="x", constant="R/2")
    a = search.search(claim, budget=0.1, seed=2)

    def reversed_map(fn, items):
        return list(reversed([fn(i) for i in reversed(list(items))]))

    with ThreadPoolExecutor(2) as pool:
        b = search.search(claim, budget=0.1, seed=2, map_fn=pool.map)
    c = search.search(claim, budget=0.1, seed=2, map_fn=reversed_map)
    assert [x.obs for x in a.bests] == [x.obs for x in b.bests] == [x.obs for x in c.bests]
    assert a.evaluations == b.evaluations == c.evaluations


@pytest.mark.xdist_group("lemmas")  # it proves a claim: on the worker whose lemma verdicts are already cached
def test_same_seed_same_bytes_under_cpu_load(tmp_path):
    """Work is counted in units, not seconds, and the JSON holds no timings: the same claims, seed and budget
    give the same bytes while another process burns a CPU (each run in this process: the proof checker's
    start-up, not the search, would dominate two fresh interpreters)."""
    path = tmp_path / "c.toml"
    lipschitz = BASE.replace('quantity = "alpha"', 'quantity = "f"')
    lipschitz = lipschitz.replace('kind = "upper"', 'kind = "lipschitz"\nwrt = "x"')
    path.write_text(lipschitz + 'constant = "R"\n' + BASE.replace('id = "c"', 'id = "c2"') + 'constant = "exp(R**2)"\n')
    claims = claimfile.load([path])
    burn = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        outs = [to_json([check_claim(c, budget=0.3, seed=1, out_dir=tmp_path) for c in claims]) for _ in range(2)]
    finally:
        burn.kill()
        burn.wait()
    assert outs[0] == outs[1]
    assert [c["status"] for c in json.loads(outs[0])["claims"]] == ["proved", "refuted"]
