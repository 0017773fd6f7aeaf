"""A PyTorch implementation with a NaN at moderate logits (for the tests): autograd through log(0)."""
import torch


def rescaled_log_of_zero(A1, A2, B, X):
    """Log-domain rescaled loss whose gradient is NaN where a row's residual is exactly 0 (d log r / dr at 0)."""
    X = X.detach().clone().requires_grad_(True)
    S = A1 @ X @ A2.T
    m = S.max(dim=1, keepdim=True).values.detach()
    E = torch.exp(S - m)
    H = E - E.sum(dim=1, keepdim=True) * B
    loss = 0.5 * torch.exp(2 * m[:, 0] + torch.log((H * H).sum(dim=1))).sum()
    (G,) = torch.autograd.grad(loss, X)
    return loss.detach(), G
