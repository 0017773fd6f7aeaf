r"""Autograd through :func:`attnreg.loss` (and :func:`attnreg.vector.loss`): the analytic gradient is the backward.

Differentiating the loss kernels op by op is wrong at the edges: the rescaled kernels carry values as
``e^t·z`` with ``where``-selected branches, and an automatic derivative through an untaken branch that
overflows is ``0·inf = nan`` (torch gave nan gradients for shifted rescaled rows while the loss was
finite). So the loss is registered as one primitive whose derivative in ``X`` (``x``) is attnreg's own
stable gradient ``A1ᵀ P A2`` (``Aᵀ p``):

* torch: a ``torch.autograd.Function``; ``loss.backward()`` and ``torch.autograd.grad`` give
  ``grad_output · attnreg.grad``. The backward is not itself differentiable: asking for a graph of
  it (``create_graph=True``) raises one sentence pointing to :func:`attnreg.hvp`. Gradients with respect to the data
  ``A1, A2, B`` are not provided: inputs other than ``X`` that require grad are refused with one sentence.
* jax: a ``jax.custom_vjp`` function of ``X`` alone with the data closed over, so ``jax.grad`` in ``X``
  uses attnreg's gradient, and differentiating in the data raises jax's error about closed-over values.
"""
from __future__ import annotations

from array_api_compat import is_jax_array, is_torch_array


def route(data, X):
    """``"torch"`` or ``"jax"`` when the loss must go through the registered primitive, else None."""
    if is_torch_array(X):
        import torch  # deferred: optional dependency, present when X is a torch tensor

        names = [name for name, a in data.items() if a.requires_grad]
        if names:
            raise TypeError(f"{', '.join(names)} require{'s' if len(names) == 1 else ''} grad, but attnreg.loss "
                            f"differentiates in X only; detach the data (e.g. {names[0]}.detach())")
        return "torch" if X.requires_grad and torch.is_grad_enabled() else None
    if is_jax_array(X):
        return "jax"
    return None


def through(kind, loss_and_grad, X):
    """The loss at ``X`` with ``loss_and_grad(X) -> (L, ∇L)`` as its derivative rule (module docstring)."""
    if kind == "torch":
        return _torch_function().apply(X, loss_and_grad)
    import jax  # deferred: optional dependency, present when X is a jax array

    @jax.custom_vjp
    def loss(X):
        return loss_and_grad(X)[0]

    def forward(X):
        return loss_and_grad(X)

    def backward(G, g):
        return (g * G,)

    loss.defvjp(forward, backward)
    return loss(X)


_FUNCTION = None


def _torch_function():
    global _FUNCTION
    if _FUNCTION is None:
        import torch  # deferred: optional dependency, built on the first torch call

        class Loss(torch.autograd.Function):
            @staticmethod
            def forward(ctx, X, loss_and_grad):
                L, G = loss_and_grad(X.detach())
                ctx.save_for_backward(G)
                return L

            @staticmethod
            def backward(ctx, g):
                if torch.is_grad_enabled():  # create_graph=True: a second derivative is being asked for
                    raise RuntimeError("attnreg.loss is differentiable once by torch autograd; for second "
                                       "derivatives use attnreg.hvp or attnreg.hessian")
                (G,) = ctx.saved_tensors
                return g * G, None

        _FUNCTION = Loss
    return _FUNCTION
