"""``attnreg proofs``: list the lemmas, show one as a readable proof, or re-check them all."""
from __future__ import annotations


def add_parser(sub) -> None:
    p = sub.add_parser("proofs", help="list, show and re-check the sympy lemmas (attnreg.proofs)",
                       description="List the lemmas of attnreg.proofs (one per line: id, status, the formal claim — "
                                   "the statement the checker proves: a bound lemma's goal with its hypotheses, or "
                                   "the claims of the steps an identity lemma shows — then in brackets what the "
                                   "claim is made of and the lemma's name, a title that claims nothing), show one as "
                                   "a proof a reader can follow, or re-run every step. A lemma is proved only if every "
                                   "layer passes: each identity step exact in sympy at the checker's sizes (n ≥ 3, "
                                   "d ≥ 2), each rule application of its rule's form, the bound chain composed by "
                                   "sympy, the lemma's numeric route and the checker's own sampling at 50 digits. The "
                                   "same verdict is used by bound_lemmas() and `attnreg claims`.")
    p.add_argument("--no-check", action="store_true",
                   help="list without re-running the symbolic steps (status 'not checked')")
    acts = p.add_subparsers(dest="action", metavar="ACTION")
    show = acts.add_parser("show", help="print one lemma: statement, every step with its justification, citations")
    show.add_argument("id", metavar="ID", help="lemma id, as listed by `attnreg proofs`")
    show.add_argument("--format", choices=("md", "latex"), default="md", help="output format (default md)")
    check = acts.add_parser("check", help="re-run every step (and the numeric route); exit 1 on any failure")
    check.add_argument("ids", nargs="*", metavar="ID", help="only these lemmas (default: all)")
    check.add_argument("--slow", action="store_true", help="also verify at the lemma's slow-tier symbolic sizes, "
                       "larger than n = 3, d = 2 (a lemma that declares smaller sizes fails)")
    check.add_argument("--no-numeric", action="store_true", help="skip the 50-digit numeric layers (a lemma is then "
                       "reported 'steps-ok', never 'proved')")
    export = acts.add_parser("export", help="write independent-witness files (Coq) for the chosen chains",
                             description="Write Coq files (Reals, Psatz) with a Makefile into DIR: the finite-sum "
                                         "identity of the softmax-½ chain for every n, and the composition of the "
                                         "softmax-½, normalized-gradient-in-the-logits and normalized "
                                         "gradient-Lipschitz chains. `make -C DIR` compiles them with coqc.")
    export.add_argument("--coq", metavar="DIR", required=True, help="folder to write (created if missing)")
    p.set_defaults(handler=run)


def _lemma(LEMMAS, name):
    import difflib

    from attnreg.cli import UsageError

    if name not in LEMMAS:
        close = difflib.get_close_matches(name, list(LEMMAS), n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(close)}?" if close else "; `attnreg proofs` lists them"
        raise UsageError(f"no lemma with id {name!r}{hint}")
    return LEMMAS[name]


def run(args) -> int:
    from attnreg.proofs import LEMMAS, verify

    if args.action == "show":
        from attnreg.proofs.render import render

        lemma = _lemma(LEMMAS, args.id)
        print(render(lemma, args.format, verify(lemma)), end="")
        return 0
    if args.action == "export":
        return _export(args.coq)
    if args.action == "check":
        return _check([_lemma(LEMMAS, i) for i in args.ids] or list(LEMMAS.values()), args)
    from attnreg.proofs._statement import formal

    width = max(map(len, LEMMAS))
    for lemma in LEMMAS.values():
        status = "not checked" if args.no_check else ("proved" if verify(lemma).ok else "FAILED")
        print(f"{lemma.id:<{width}}  {status:<11}  {lemma.claim}  [{formal(lemma)}; name: {lemma.title}]", flush=True)
    return 0


def _check(lemmas, args) -> int:
    from attnreg.proofs import verify
    from attnreg.proofs.index_table import summary

    failed = 0
    width = max(len(lem.id) for lem in lemmas)
    for lemma in lemmas:
        v = verify(lemma, lemma.slow_sizes if args.slow else (), numeric=not args.no_numeric)
        if args.no_numeric:
            ok, word = v.symbolic_ok, "steps-ok" if v.symbolic_ok else "FAILED"
        else:
            ok, word = v.ok, "proved" if v.ok else "FAILED"
        failed += not ok
        print(f"{lemma.id:<{width}}  {word:<8}  {v.detail}", flush=True)
        print(f"{'':<{width}}  {'':<8}  identities: {summary(lemma)}", flush=True)
    tail = " (numeric layers skipped: nothing is reported proved)" if args.no_numeric else ""
    print(f"{len(lemmas) - failed} of {len(lemmas)} lemmas pass" + (f", {failed} FAILED" if failed else "") + tail)
    return 1 if failed else 0


def _export(folder) -> int:
    from pathlib import Path

    from attnreg.cli import UsageError
    from attnreg.proofs.export_coq import export

    where = Path(folder)
    if where.exists() and not where.is_dir():
        raise UsageError(f"--coq {folder}: is a file; give a folder")
    if not where.parent.is_dir():
        raise UsageError(f"--coq {folder}: the folder {where.parent} does not exist")
    try:
        paths = export(where)
    except ValueError as err:  # a chain the checker does not prove is not exported
        print(f"proofs export: {err}")
        return 1
    for path in paths:
        print(path)
    print(f"compile with: make -C {where}")
    return 0
