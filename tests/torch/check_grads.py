"""check_grads.py MODEL PARAMS.json GRADS.json DATA.csv NINPUTS

Recomputes, with PyTorch in float64, the gradient of MODEL's mean loss at
the parameters in PARAMS.json over the rows of DATA.csv, and compares it
with dlc's gradient in GRADS.json (a trainer's --grad-out).  Prints the
worst relative error per parameter; exits 1 if any is 1e-5 or more.
"""
import json
import sys

import torch

from models import MODELS


def main():
    name, params_path, grads_path, data_path, ninputs = sys.argv[1:6]
    ninputs = int(ninputs)
    with open(params_path) as f:
        params = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True)
                  for k, v in json.load(f).items()}
    with open(grads_path) as f:
        theirs = json.load(f)
    rows = [list(map(float, line.split(",")))
            for line in open(data_path) if line.strip()]
    data = torch.tensor(rows, dtype=torch.float64)
    loss = MODELS[name](params, data[:, :ninputs], data[:, ninputs:])
    loss.backward()
    worst = 0.0
    for k, p in params.items():
        ours = torch.tensor(theirs[k], dtype=torch.float64)
        scale = torch.clamp(p.grad.abs(), min=1e-8)
        err = ((ours - p.grad).abs() / torch.maximum(scale, ours.abs())).max()
        print(f"{name} {k}: worst relative error {err.item():.3g}")
        worst = max(worst, err.item())
    sys.exit(0 if worst < 1e-5 else 1)


if __name__ == "__main__":
    main()
