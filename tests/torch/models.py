"""models.py - the example programs written again, by hand, in PyTorch.

Each function takes the parameters (float64 tensors by name) and a batch
(the input columns X and target columns Y of every row) and returns the
mean over the batch of the per-example loss, as the .dl file defines it.
They are an independent reference for dlc's gradients: nothing here is
generated from dlc's IR.
"""
import math

import torch


def polyfit(p, X, Y):
    x, y = X[:, 0], Y[:, 0]
    yhat = p["k0"] + p["k1"] * x + p["k2"] * x**2 + p["k3"] * x**3 \
        + p["k4"] * x**4 + p["k5"] * x**5
    return ((yhat - y) ** 2).mean()


def polyfit_vec(p, X, Y):
    x, y = X[:, 0], Y[:, 0]
    yhat = sum(p["k"][i] * x**i for i in range(6))
    return ((yhat - y) ** 2).mean()


def iris(p, X, Y):
    h = torch.tanh(X @ p["W1"].T + p["b1"])
    logits = h @ p["W2"].T + p["b2"]
    return torch.nn.functional.cross_entropy(logits, Y[:, 0].long())


def cancer(p, X, Y):
    z = X @ p["w"] + p["b"]
    m = Y[:, 0]
    loss = torch.nn.functional.softplus(z) - m * z \
        + 0.001 * (p["w"] ** 2).sum()
    return loss.mean()


def robust(p, X, Y):
    w, s = p["w"], p["s"]
    r = X @ w - Y[:, 0]
    a = r.abs()
    huber = torch.where(a < 1, 0.5 * r**2, a - 0.5)
    loss = huber + 0.01 * torch.sqrt((w**2).sum() + 1e-8) \
        + 0.1 * (torch.log(torch.exp(s) + 1) - s)
    return loss.mean()


def mixture(p, X, Y):
    D = 2
    z = (X[:, None, :] - p["mu"]) / torch.exp(p["log_s"])
    lp = torch.log_softmax(p["logit_w"], 0) \
        + (-0.5 * z**2 - p["log_s"]).sum(dim=2)
    loss = -torch.logsumexp(lp, dim=1) + 0.5 * D * math.log(2 * math.pi)
    return loss.mean()


MODELS = {
    "polyfit": polyfit,
    "polyfit_vec": polyfit_vec,
    "iris": iris,
    "cancer": cancer,
    "robust": robust,
    "mixture": mixture,
}
