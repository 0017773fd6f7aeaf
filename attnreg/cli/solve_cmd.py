"""``attnreg solve DATA.npz``: minimise the loss for the arrays in an .npz file, with a progress bar.

The archive holds ``A1, A2, B`` (and optionally ``X0``) for the matrix form, or ``A, b`` (and optionally
``x0``) for the vector form. Exit status 0 when the solver converged, 1 when it stopped for another
reason (printed: the typed stop reason, then what the point is — global minimum, local minimum, saddle,
unbounded, ...), 2 for a bad data file or bad options.
"""
from __future__ import annotations

FORMS = {"matrix": (("A1", "A2", "B"), "X0"), "vector": (("A", "b"), "x0")}


def add_parser(sub) -> None:
    p = sub.add_parser("solve", help="minimise the loss for the data in an .npz file",
                       description="Minimise the normalized or rescaled loss for A1, A2, B[, X0] (or A, b[, x0]) "
                                   "read from DATA.npz, with L-BFGS or Newton-CG in float64, or with the "
                                   "high-precision reference solver (--method reference, --dps N). Prints why it "
                                   "stopped; exit 0 if it converged, 1 if not.")
    p.add_argument("data", metavar="DATA.npz", help="arrays A1, A2, B[, X0] or A, b[, x0]")
    p.add_argument("--version", required=True, choices=("normalized", "rescaled"))
    p.add_argument("--method", choices=("lbfgs", "newton-cg", "reference"),
                   help="default: newton-cg, or reference when --dps is given")
    p.add_argument("--dps", type=int, help="decimal digits of the reference solver (default 50)")
    p.add_argument("--out", metavar="RESULT.npz", help="write X, loss, grad_norm, reason and the history here")
    p.add_argument("--max-iter", type=int, dest="max_iter", help="iteration limit (default: the solver's)")
    p.add_argument("--tol", type=float, help="stop when ||grad L|| <= TOL (default: the solver's, see its docs)")
    p.add_argument("--restarts", type=int, default=0, metavar="K",
                   help="also try K seeded random starts X0 ~ N(0,1) and keep the best point (production solvers)")
    p.add_argument("--seed", type=int, default=0, help="seed of the random starts (default 0)")
    p.set_defaults(handler=run)


def load(path):
    """``(form, arrays)`` from an .npz file, every array float64; UsageError (one sentence) otherwise."""
    import zipfile
    import zlib
    from pathlib import Path

    import numpy as np

    from attnreg.cli import UsageError

    if not Path(path).is_file():
        raise UsageError(f"{path}: {'a directory, not a file' if Path(path).is_dir() else 'no such file'}")
    try:
        archive = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile):
        raise UsageError(f"{path} is not a NumPy .npz archive") from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise UsageError(f"{path} holds a single array (.npy), not an .npz archive of named arrays")
    with archive:
        keys = set(archive.files)
        form = next((f for f, (need, _) in FORMS.items() if set(need) <= keys), None)
        expected = "A1, A2, B and optionally X0 (matrix form), or A, b and optionally x0 (vector form)"
        if form is None or keys - {*FORMS[form][0], FORMS[form][1]}:
            extra = sorted(keys - ({*FORMS[form][0], FORMS[form][1]} if form else set()))
            found = ", ".join(sorted(keys)) or "no arrays"
            what = f"unknown arrays {', '.join(extra)}" if form and extra else f"arrays {found}"
            raise UsageError(f"{path} holds {what}; expected {expected}")
        arrays = {}
        for key in sorted(keys):
            try:
                a = archive[key]
            except ValueError as exc:
                raise UsageError(f"{path}: array {key} cannot be read without pickle ({exc})") from None
            except (OSError, EOFError, MemoryError, zipfile.BadZipFile, zlib.error) as exc:  # a corrupt member, or a
                # header claiming more than this machine holds
                raise UsageError(f"{path}: array {key} cannot be read ({type(exc).__name__}: corrupt or truncated "
                                 f"archive member, or too large)") from None
            if not isinstance(a, np.ndarray):  # a member not named .npy comes back as raw bytes
                raise UsageError(f"{path}: member {key} is not a .npy array")
            if a.dtype.kind not in "fiu":
                raise UsageError(f"{path}: array {key} has dtype {a.dtype}; real numbers are needed")
            arrays[key] = a.astype(np.float64)
    return form, arrays


def _validate(path, form, arrays) -> None:
    import numpy as np

    from attnreg._validate import check_finite, check_shape, matrix_problem, vector_problem
    from attnreg.cli import UsageError

    A = arrays["A1" if form == "matrix" else "A"]
    d = A.shape[1] if A.ndim == 2 else 1
    try:
        if form == "matrix":
            matrix_problem(arrays["A1"], arrays["A2"], np.zeros((d, d)), B=arrays["B"])
        else:
            vector_problem(arrays["A"], np.zeros(d), b=arrays["b"])
        start = FORMS[form][1]
        if start in arrays:  # named as in the file
            shape, meaning = ((d, d), "(d, d)") if form == "matrix" else ((d,), "(d,)")
            check_shape(start, arrays[start], shape, meaning)
            check_finite(np, **{start: arrays[start]})
    except (ValueError, TypeError) as exc:
        raise UsageError(f"{path}: {exc}") from None


def run(args) -> int:
    import io

    import numpy as np
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from attnreg._io import atomic_write_bytes
    from attnreg.cli import UsageError, check_output

    method = args.method or ("reference" if args.dps is not None else "newton-cg")
    if args.dps is not None and method != "reference":
        raise UsageError(f"--dps applies to --method reference only, not to --method {method}")
    if args.dps is not None:
        from attnreg.reference.context import check_dps

        try:
            check_dps(args.dps)
        except ValueError as exc:
            raise UsageError(f"--dps: {exc}") from None
    check_output("--out", args.out)
    if args.max_iter is not None and args.max_iter < 0:
        raise UsageError(f"--max-iter must be a non-negative integer, got {args.max_iter}")
    if args.tol is not None and not (np.isfinite(args.tol) and args.tol > 0):
        raise UsageError(f"--tol must be a positive number, got {args.tol}")
    if args.restarts < 0 or args.seed < 0:
        raise UsageError(f"--restarts and --seed must be non-negative integers, got {args.restarts}, {args.seed}")
    if args.restarts and method == "reference":
        raise UsageError("--restarts applies to the production solvers (lbfgs, newton-cg) only")
    form, arrays = load(args.data)
    _validate(args.data, form, arrays)
    options = {k: v for k, v in dict(tol=args.tol, max_iter=args.max_iter).items() if v is not None}
    if method == "reference":
        import attnreg.reference as reference

        options["dps"] = 50 if args.dps is None else args.dps
        solver = reference.solve if form == "matrix" else reference.vector.solve
    else:
        from attnreg.solvers import solve, solve_vector

        options.update(method=method, restarts=args.restarts, seed=args.seed)
        solver = solve if form == "matrix" else solve_vector
    data = [arrays[k] for k in FORMS[form][0]] + [arrays.get(FORMS[form][1])]
    total = options.get("max_iter", 200 if method == "reference" else 1000)
    columns = (TextColumn(f"{method} {args.version}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("loss {task.fields[loss]}  ||grad|| {task.fields[grad]}"), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("solve", total=total, loss="…", grad="…")

        def callback(k, loss, grad_norm):
            progress.update(task, completed=k, loss=f"{float(loss):.3e}", grad=f"{float(grad_norm):.3e}")

        try:
            result = solver(*data, version=args.version, callback=callback, **options)
        except (ValueError, TypeError) as exc:
            raise UsageError(str(exc)) from None
    console = Console()
    console.print(f"{result.reason}", highlight=False)
    console.print(f"loss = {float(result.loss):.17g}   ||grad L|| = {float(result.grad_norm):.3e}   "
                  f"iterations = {result.iterations}   point: {result.point.value}", highlight=False)
    if args.out:
        atomic_write_bytes(args.out, _pack(result, form, np, io))
        console.print(f"wrote {args.out}", highlight=False, soft_wrap=True)  # a path is never broken over lines
    return 0 if result.converged else 1


def _pack(result, form, np, io) -> bytes:
    """The result as .npz bytes; the reference's X also as decimal strings with all its digits."""
    X = result.X
    fields = dict(loss=np.float64(float(result.loss)), grad_norm=np.float64(float(result.grad_norm)),
                  iterations=np.int64(result.iterations), converged=np.bool_(result.converged),
                  reason=np.str_(result.reason), method=np.str_(result.method), version=np.str_(result.version),
                  stop=np.str_(result.stop.value), point=np.str_(result.point.value),
                  history=np.array([[k, float(v), float(g)] for k, v, g in result.history], dtype=np.float64))
    if hasattr(X, "rows"):  # mpmath matrix
        digits = [[str(X[i, j]) for j in range(X.cols)] for i in range(X.rows)]
        fields["X_digits"] = np.array(digits if form == "matrix" else [r[0] for r in digits])
        fields["X"] = np.array(fields["X_digits"], dtype=object).astype(float)
    else:
        fields["X"] = np.asarray(X, dtype=np.float64)
    buffer = io.BytesIO()
    np.savez(buffer, **fields)
    return buffer.getvalue()
