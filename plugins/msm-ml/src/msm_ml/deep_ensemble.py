"""``ml.ensemble``: a deep ensemble of small PyTorch MLPs as a surrogate model.

``members`` networks (``d_in -> width -> width -> d_out``, tanh), each initialised
from its own seed (``seed + m``) and trained full-batch with Adam on inputs scaled to
[0, 1] and standardised outputs (mean squared error). The prediction is the members'
mean, the uncertainty their standard deviation — the ensemble disagreement of
Lakshminarayanan, Pritzel & Blundell (NeurIPS 2017), without their per-member
variance head (the micro model here is deterministic, so the uncertainty is
epistemic). CPU, float64, one thread per fit: deterministic for a given seed.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from msm_ml.scaling import Scaling

__all__ = ["DeepEnsemble"]


def _mlp(d_in: int, d_out: int, width: int) -> torch.nn.Module:
    return torch.nn.Sequential(torch.nn.Linear(d_in, width), torch.nn.Tanh(), torch.nn.Linear(width, width),
                               torch.nn.Tanh(), torch.nn.Linear(width, d_out)).double()


class DeepEnsemble:
    """Deep ensemble surrogate (fit / predict with std / save_state / restore_state).

    Parameters
    ----------
    seed
        Member ``m`` is initialised with ``torch.manual_seed(seed + m)``.
    members, width, epochs, lr, weight_decay
        Number of networks, hidden width, Adam steps per fit, learning rate, L2 penalty.
    """

    def __init__(self, *, seed: int = 0, members: int = 5, width: int = 32, epochs: int = 600,
                 lr: float = 1e-2, weight_decay: float = 0.0) -> None:
        self.seed, self.members, self.width, self.epochs = int(seed), int(members), int(width), int(epochs)
        self.lr, self.weight_decay = float(lr), float(weight_decay)
        self.nets: list[torch.nn.Module] = []
        self.x_scaling: Scaling | None = None
        self.y_scaling: Scaling | None = None

    def fit(self, X: np.ndarray, Y: np.ndarray) -> None:
        """Train every member from its seed on ``(X, Y)``."""
        X, Y = np.asarray(X, dtype=float), np.asarray(Y, dtype=float)
        self.x_scaling, self.y_scaling = Scaling.fit(X), Scaling.fit(Y, standardize=True)
        x = torch.from_numpy(self.x_scaling.forward(X))
        y = torch.from_numpy(self.y_scaling.forward(Y))
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            self.nets = []
            for m in range(self.members):
                torch.manual_seed(self.seed + m)
                net = _mlp(X.shape[1], Y.shape[1], self.width)
                opt = torch.optim.Adam(net.parameters(), lr=self.lr, weight_decay=self.weight_decay)
                for _ in range(self.epochs):
                    opt.zero_grad()
                    loss = torch.mean((net(x) - y) ** 2)
                    loss.backward()
                    opt.step()
                self.nets.append(net)
        finally:
            torch.set_num_threads(threads)

    def predict(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Mean and standard deviation over the members, ``(n, d_out)`` each."""
        if not self.nets or self.x_scaling is None or self.y_scaling is None:
            raise RuntimeError("DeepEnsemble.predict() before fit()")
        x = torch.from_numpy(self.x_scaling.forward(X))
        with torch.no_grad():
            out = np.stack([net(x).numpy() for net in self.nets])
        mean = self.y_scaling.backward(out.mean(axis=0))
        std = out.std(axis=0) * self.y_scaling.scale
        return mean, std

    def save_state(self) -> dict[str, Any]:
        """Every member's ``state_dict`` as NumPy arrays, and the scalings."""
        if not self.nets or self.x_scaling is None or self.y_scaling is None:
            return {"fitted": False}
        return {"fitted": True,
                "members": [{k: v.detach().numpy().copy() for k, v in net.state_dict().items()}
                            for net in self.nets],
                "x": [self.x_scaling.shift.copy(), self.x_scaling.scale.copy()],
                "y": [self.y_scaling.shift.copy(), self.y_scaling.scale.copy()]}

    def restore_state(self, state: dict[str, Any]) -> None:
        """Rebuild the members from :meth:`save_state` (the same predictions)."""
        if not state.get("fitted"):
            self.nets = []
            return
        self.x_scaling, self.y_scaling = Scaling(*state["x"]), Scaling(*state["y"])
        d_in, d_out = len(self.x_scaling.shift), len(self.y_scaling.shift)
        self.nets = []
        for params in state["members"]:
            net = _mlp(d_in, d_out, self.width)
            net.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in params.items()})
            self.nets.append(net)
