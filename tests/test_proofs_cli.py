"""``attnreg proofs``: list, show (md / latex), check, and one-sentence usage errors."""
import pytest

from attnreg import proofs
from attnreg.cli import main
from attnreg.proofs import LEMMAS, Lemma, Step

pytestmark = pytest.mark.xdist_group("lemmas")  # one worker verifies every lemma once (a cache per process)


def test_list_one_line_per_lemma_id_first(capsys):
    assert main(["proofs"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == list(LEMMAS)
    assert all(line.split()[1] == "proved" for line in lines)
    # after the status, the formal claim (the statement), then what it is made of and the name (a title, no claim)
    tt = LEMMAS["tensor_trick"]
    assert lines[0].split(None, 2)[2] == f"{tt.claim}  [shows steps 2, 3; name: {tt.title}]"
    listed = {line.split()[0]: line.split(None, 2)[2] for line in lines}
    assert listed["xzw_invariance"].endswith("  [shows steps 5, 7 if step 1; name: a flat direction]")
    assert listed["alpha_upper"] == ("α(x) ≤ n*exp(R^2) if norm(A) ≤ R, norm(x) ≤ R  [goal α(x) ≤ n*exp(R^2) if "
                                     "norm(A) ≤ R, norm(x) ≤ R; name: upper bound on α]")


def test_list_without_checking(capsys):
    assert main(["proofs", "--no-check"]) == 0
    assert all("not checked" in line for line in capsys.readouterr().out.splitlines())


def test_show_the_matrix_gradient_as_a_proof(capsys):
    assert main(["proofs", "show", "matrix_grad_normalized"]) == 0
    out = capsys.readouterr().out
    for part in ("# Lemma matrix_grad_normalized", "## Explanation (prose, not checked)", "## Proof", "## Lemmas used",
                 "## Check",
                 "Status: proved", "A1ᵀ P A2", "uses Lemma grad_normalized", "uses Lemma kron_blocks",
                 "exact identity, sympy at n=3, d=2", "## Trust base", "Numeric route (confirmed)"):
        assert part in out, part
    assert out.count("\n1. ") == 1 and "\n4. " in out
    assert ("**Statement (formal, checked).** vec(∇_X L_N) = Σ_j A_[j]ᵀ p_j; Σ_j A_[j]ᵀ p_j = vec(A1ᵀ P A2); "
            "P, rows p_jᵀ, = F∘C − rowsum(F∘C)·F\n\n"
            "**How it is checked.** the claims of steps 2, 3, 4 of the proof below, joined by \"; \"") in out
    assert "*The title is a name, not a claim (proofs/_title.py), and the Explanation is prose: neither is " \
           "checked" in out


def test_show_the_softmax_half_bound_as_a_proof(capsys):
    assert main(["proofs", "show", "softmax_jacobian_half"]) == 0
    out = capsys.readouterr().out
    for part in ("by schur_test", "by square_nonnegative", "side condition: J = Jᵀ", "so far:", "Conclusion:",
                 "½ − 2t(1 − t) = 2(t − ½)²", "equal to the stated",
                 "**How it is checked.** the goal ‖diag(f) − f fᵀ‖ ≤ 1/2, composed from the steps below by sympy"):
        assert part in out, part


def test_show_latex(capsys):
    assert main(["proofs", "show", "softmax_lipschitz_logits", "--format", "latex"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(r"\subsection*{Lemma \texttt{softmax\_lipschitz\_logits}")
    assert r"\begin{enumerate}" in out and r"\end{enumerate}" in out and out.count(r"\(") == out.count(r"\)")
    assert "uses Lemma softmax\\_jacobian\\_half" in out and "‖" not in out


def test_unknown_id_is_a_usage_error_naming_close_matches(capsys):
    assert main(["proofs", "show", "softmax_jacobain_half"]) == 2
    err = capsys.readouterr().err
    assert "no lemma with id 'softmax_jacobain_half'" in err and "softmax_jacobian_half" in err
    assert "Traceback" not in err
    assert main(["proofs", "check", "nope_nothing"]) == 2


def test_check_passes_and_fails(capsys, monkeypatch):
    assert main(["proofs", "check", "tensor_trick", "kron_norm"]) == 0
    assert "2 of 2 lemmas pass" in capsys.readouterr().out
    doc = "Lemma t_cli_bad (test): wrong.\n\nStatement\n    s\nDerivation\n    d\nCheck\n    c\n"
    bad = Lemma(doc=doc, steps=lambda n, d: [Step("1 = 2", "no", 1, 2)], numeric=None)
    monkeypatch.setitem(proofs.LEMMAS, "t_cli_bad", bad)
    assert main(["proofs", "check", "t_cli_bad", "--no-numeric"]) == 1
    assert "FAILED" in capsys.readouterr().out


@pytest.mark.slow
def test_check_everything_with_slow_sizes(capsys):
    assert main(["proofs", "check", "--slow"]) == 0
