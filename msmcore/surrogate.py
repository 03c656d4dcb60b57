"""Surrogates in front of a closure ensemble: a learned model that runs the micro model only where unsure.

The heterogeneous multiscale method (HMM) asks a micro model for a closure at every
macro point and step. :class:`SurrogateGate` stands in front of those evaluations
(the *closure* mode of :class:`msmcore.ensemble.Ensemble`): per point, the micro's
inputs at that point go to a :class:`SurrogateModel`, which predicts the outputs with
an uncertainty; where it is unsure, the real micro model runs, its result is used
and added to the training set, and the model is refit (Stephenson, Kermode &
Lockerby 2018, Gaussian processes in place of MD).

The policy of one window (one call of :meth:`SurrogateGate.step`, over all points):

1. *Start*: while the training set is empty, the micro model runs at ``initial``
   points chosen by farthest-point sampling (the first is the point farthest from the
   inputs' mean), and the model is fit.
2. *Gate*: the model predicts every point not yet evaluated. A point is a
   *candidate* when its standard deviation exceeds ``tolerance`` in any output
   (absolute, in the output's units; one number or one per output), or when any of
   its inputs lies outside the region seen so far: the per-dimension bounds of the
   training inputs, widened by ``margin`` times their span on each side (default 0:
   any extrapolation runs the micro model).
3. *Rounds*: up to ``rounds`` times, at most ``per_round`` candidates — the most
   uncertain first, then farthest-point sampling among the rest, distances scaled by
   the inputs' span — run on the micro model; the model is refit on the grown
   training set (the refit schedule: after every round that brought new data), and
   the gate is applied again. After the last round every remaining candidate runs
   on the micro model. So every output is either a micro result or a prediction
   whose standard deviation is within the tolerance.
4. *Audit*: each confident point is audited with probability ``audit`` (a seeded
   generator drawn anew per window from ``(seed, window)``, so a resumed run draws
   the same); audited points run on the micro model too, the largest
   ``|micro - prediction|`` is reported, the micro value is used and added to
   the training set (it is fit at the next refit).

The per-window report (:attr:`SurrogateGate.report`, one dict per window with
:data:`REPORT_FIELDS`) counts micro runs, predictions, audits and refits and gives the
largest standard deviation among predicted points and the audited error.

Models implement :class:`SurrogateModel` (``fit``, ``predict`` → ``(mean, std)``,
``save_state``/``restore_state``); ``plugins/msm-ml`` registers a scikit-learn
Gaussian process (``ml.gp``) and a PyTorch deep ensemble (``ml.ensemble``) through
the ``msm_register_surrogates`` hook. Under MPI every rank of the ensemble runs the
same gate on the same (gathered) inputs; the model is fit on the component's rank 0
and its state broadcast, so every rank predicts the same.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Mapping
from typing import Any, Protocol, runtime_checkable

import numpy as np

from msmcore.errors import ConfigurationError, CouplingError

__all__ = ["REPORT_FIELDS", "SurrogateGate", "SurrogateModel", "farthest_points", "make_gate"]

logger = logging.getLogger(__name__)

#: The values of a window's report, in the order of an ensemble's ``ensemble_report`` port.
REPORT_FIELDS = ("micro_runs", "predictions", "audited", "max_std", "audit_error", "refits", "train_size")

#: Keys of ``surrogate={...}`` besides ``model`` and ``model_options``.
GATE_KEYS = ("tolerance", "audit", "seed", "initial", "per_round", "rounds", "margin")


@runtime_checkable
class SurrogateModel(Protocol):
    """What a surrogate model implements: rows of ``X`` are points, columns their inputs.

    ``fit(X, Y)`` learns from all training data so far (``X`` of shape ``(n, d_in)``,
    ``Y`` of shape ``(n, d_out)``); ``predict(X)`` returns ``(mean, std)``, both of
    shape ``(m, d_out)``; ``save_state()`` returns the fitted model as a checkpointable
    tree (dicts of NumPy arrays, numbers, strings — see :mod:`msmcore.state_codec`) and
    ``restore_state(state)`` rebuilds it so that ``predict`` gives the same numbers.
    A factory registered by key is called as ``factory(seed=..., **model_options)``.
    """

    def fit(self, X: np.ndarray, Y: np.ndarray) -> None:
        """Learn from the training set."""

    def predict(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Mean and standard deviation at ``X``."""

    def save_state(self) -> Any:
        """The fitted model as a checkpointable tree."""

    def restore_state(self, state: Any) -> None:
        """Rebuild the fitted model from :meth:`save_state`."""


def farthest_points(X: np.ndarray, count: int, *, existing: np.ndarray | None = None,
                    first: int | None = None, scale: np.ndarray | None = None) -> np.ndarray:
    """Indices of up to ``count`` rows of ``X`` chosen by greedy farthest-point sampling.

    Parameters
    ----------
    X
        Candidate points, ``(n, d)``.
    count
        How many to choose (all when ``n <= count``, still in sampling order).
    existing
        Points already chosen (e.g. the training set): distances count from them too.
    first
        Index of the first pick; default the row farthest from the existing points
        (or from the mean of ``X`` when there are none).
    scale
        Per-dimension lengths the distances are measured in (default 1).
    """
    n = X.shape[0]
    if n == 0 or count <= 0:
        return np.zeros(0, dtype=np.int64)
    s = np.ones(X.shape[1]) if scale is None else np.where(scale > 0, scale, 1.0)
    Z = X / s
    if existing is not None and len(existing):
        E = np.asarray(existing) / s
        dist = np.min(((Z[:, None, :] - E[None, :, :]) ** 2).sum(-1), axis=1)
    else:
        dist = np.full(n, np.inf)
    if first is None:
        first = int(np.argmax(dist)) if np.isfinite(dist).any() else int(
            np.argmax(((Z - Z.mean(axis=0)) ** 2).sum(-1)))
    picked = [int(first)]
    dist = np.minimum(dist, ((Z - Z[first]) ** 2).sum(-1))
    while len(picked) < min(count, n):
        dist[picked] = -1.0
        nxt = int(np.argmax(dist))
        if dist[nxt] < 0:
            break
        picked.append(nxt)
        dist = np.minimum(dist, ((Z - Z[nxt]) ** 2).sum(-1))
    return np.asarray(picked, dtype=np.int64)


class SurrogateGate:
    """The gate policy (see the module docstring) around one :class:`SurrogateModel`.

    Parameters
    ----------
    model
        A fresh (unfitted) model.
    tolerance
        Largest standard deviation accepted for a prediction, per output (a number, or
        one per output value), in the outputs' units.
    audit
        Fraction (0..1) of confident points also run on the micro model.
    seed
        Seeds the audit draws (and was handed to the model's factory).
    initial, per_round, rounds, margin
        Start-up design size, points per round, rounds per window, out-of-region
        margin (fraction of the training span).
    comm
        The ensemble's communicator (``None``: serial); fits happen on its rank 0.
    name
        The component's name, for messages.
    """

    def __init__(self, model: SurrogateModel, *, tolerance: float | Any, audit: float = 0.0, seed: int = 0,
                 initial: int = 8, per_round: int = 8, rounds: int = 4, margin: float = 0.0,
                 comm: Any = None, name: str = "ensemble") -> None:
        for method in ("fit", "predict", "save_state", "restore_state"):
            if not callable(getattr(model, method, None)):
                raise ConfigurationError(f"component '{name}': the surrogate model {type(model).__name__} has no "
                                         f"{method}(); a model implements fit(X, Y), predict(X) -> (mean, std), "
                                         "save_state() and restore_state(state)")
        tol = np.asarray(tolerance, dtype=float).reshape(-1)
        if tol.size == 0 or not np.all(np.isfinite(tol)) or np.any(tol <= 0):
            raise ConfigurationError(f"component '{name}': surrogate tolerance must be positive finite number(s) "
                                     f"(the largest accepted standard deviation, in the outputs' units), "
                                     f"got {tolerance!r}")
        if isinstance(audit, bool) or not isinstance(audit, (int, float)) or not 0.0 <= audit <= 1.0:
            raise ConfigurationError(f"component '{name}': surrogate audit must be a fraction in [0, 1], "
                                     f"got {audit!r}")
        for what, value, low in (("seed", seed, 0), ("initial", initial, 1), ("per_round", per_round, 1),
                                 ("rounds", rounds, 0)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
                raise ConfigurationError(f"component '{name}': surrogate {what} must be a whole number >= {low}, "
                                         f"got {value!r}")
        if isinstance(margin, bool) or not isinstance(margin, (int, float)) or not margin >= 0:
            raise ConfigurationError(f"component '{name}': surrogate margin must be a number >= 0, got {margin!r}")
        self.model = model
        self.tolerance = tol
        self.audit, self.seed = float(audit), int(seed)
        self.initial, self.per_round, self.rounds, self.margin = int(initial), int(per_round), int(rounds), \
            float(margin)
        self.comm = comm
        self.name = name
        self.X: np.ndarray | None = None
        self.Y: np.ndarray | None = None
        self.fitted = False
        self.windows = 0
        #: One dict per window (:data:`REPORT_FIELDS` plus ``window``).
        self.report: list[dict[str, float]] = []
        #: Per window, the indices of the audited points and the predictions made for them (for checking).
        self.last_audit: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    # -- the policy ----------------------------------------------------------------
    def out_of_region(self, X: np.ndarray) -> np.ndarray:
        """Whether each row of ``X`` leaves the training inputs' bounds (widened by ``margin``)."""
        if self.X is None or not len(self.X):
            return np.ones(X.shape[0], dtype=bool)
        lo, hi = self.X.min(axis=0), self.X.max(axis=0)
        pad = self.margin * (hi - lo)
        return np.any((X < lo - pad) | (X > hi + pad), axis=1)

    def step(self, X: np.ndarray, evaluate: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
        """Outputs at every row of ``X``: predictions where confident, ``evaluate(rows)`` elsewhere.

        ``evaluate`` runs the micro model at the given rows of ``X`` (collective under
        MPI: every rank calls it with the same rows) and returns ``(len(rows), d_out)``.
        Rows that repeat exactly are decided and evaluated once (the closure is
        stateless, so a repeat has the same answer): ``micro_runs`` counts evaluations,
        ``predictions`` the points whose value is the model's.
        """
        X = np.asarray(X, dtype=float)
        if X.shape[0] == 0:
            raise CouplingError(f"component '{self.name}': the surrogate gate got no points")
        unique, inverse = np.unique(X, axis=0, return_inverse=True)
        inverse = inverse.reshape(-1)
        first = np.empty(len(unique), dtype=np.int64)
        first[inverse[::-1]] = np.arange(X.shape[0])[::-1]  # the first row of X holding each unique row
        counts = np.bincount(inverse, minlength=len(unique))
        Y = self._step_unique(unique, lambda rows: evaluate(first[rows]), counts)
        return Y[inverse]

    def _step_unique(self, X: np.ndarray, evaluate: Callable[[np.ndarray], np.ndarray],
                     counts: np.ndarray) -> np.ndarray:
        n = X.shape[0]
        done = np.zeros(n, dtype=bool)
        out: np.ndarray | None = None
        runs = refits = 0
        scale = np.ptp(X, axis=0) if n else np.ones(X.shape[1])

        def run(rows: np.ndarray) -> None:
            nonlocal out, runs
            Y = np.asarray(evaluate(rows), dtype=float).reshape(len(rows), -1)
            if out is None:
                out = np.zeros((n, Y.shape[1]))
            out[rows] = Y
            done[rows] = True
            runs += len(rows)
            self._add(X[rows], Y)

        if not self.fitted:
            run(farthest_points(X, self.initial, existing=self.X, scale=scale))
            self._fit()
            refits += 1
        mean_all: np.ndarray | None = None  # the last prediction of each point not run on the micro model
        std_all: np.ndarray | None = None
        for round_ in range(self.rounds + 1):
            rest = np.flatnonzero(~done)
            if not len(rest):
                break
            mean, std = self._predict(X[rest])
            if std.shape[1] != self.tolerance.size and self.tolerance.size != 1:
                raise CouplingError(f"component '{self.name}': surrogate tolerance has {self.tolerance.size} "
                                    f"value(s) but the micro model has {std.shape[1]} output value(s) per point")
            if mean_all is None or std_all is None:
                mean_all, std_all = np.zeros((n, mean.shape[1])), np.zeros((n, mean.shape[1]))
            mean_all[rest], std_all[rest] = mean, std
            ratio = np.max(std / self.tolerance, axis=1)
            bad = (ratio > 1.0) | self.out_of_region(X[rest])
            if not bad.any():
                break
            cand = rest[bad]
            if round_ < self.rounds:
                score = np.where(self.out_of_region(X[cand]), np.inf, ratio[bad])
                pick = cand[farthest_points(X[cand], self.per_round, existing=self.X, scale=scale,
                                            first=int(np.argmax(score)))]
            else:
                pick = cand  # the last round: every remaining candidate runs on the micro model
            run(pick)
            self._fit()
            refits += 1
        rest = np.flatnonzero(~done)
        audited = np.zeros(0, dtype=np.int64)
        audit_error = 0.0
        predicted = rest
        if len(rest):
            assert mean_all is not None and std_all is not None
            if out is None:
                out = np.zeros((n, mean_all.shape[1]))
            out[rest] = mean_all[rest]
            if self.audit > 0:
                draw = np.random.default_rng([self.seed, self.windows]).random(len(rest))
                audited = rest[draw < self.audit]
                if len(audited):
                    guess = mean_all[audited].copy()
                    run(audited)
                    error = np.abs(out[audited] - guess)
                    audit_error = float(error.max())
                    self.last_audit = (audited, guess, out[audited].copy())
                predicted = np.setdiff1d(rest, audited)
        assert out is not None
        max_std = float(std_all[predicted].max()) if len(predicted) and std_all is not None else 0.0
        self.windows += 1
        entry = {"window": float(self.windows), "micro_runs": float(runs),
                 "predictions": float(counts[predicted].sum()),
                 "audited": float(len(audited)), "max_std": max_std, "audit_error": audit_error,
                 "refits": float(refits), "train_size": float(0 if self.X is None else len(self.X))}
        self.report.append(entry)
        logger.debug("component '%s' window %d: %s", self.name, self.windows, entry)
        return out

    # -- training ------------------------------------------------------------------
    def _add(self, X: np.ndarray, Y: np.ndarray) -> None:
        if self.X is not None:  # an input already in the training set (an audited one) is not added twice
            known = {row.tobytes() for row in self.X}
            new = np.asarray([row.tobytes() not in known for row in X], dtype=bool)
            X, Y = X[new], Y[new]
        self.X = X.copy() if self.X is None else np.vstack([self.X, X])
        self.Y = Y.copy() if self.Y is None else np.vstack([self.Y, Y])

    def _fit(self) -> None:
        """Fit on rank 0 of the ensemble's communicator; broadcast the state to the others."""
        assert self.X is not None and self.Y is not None
        size = 1 if self.comm is None else self.comm.Get_size()
        if size == 1:
            self.model.fit(self.X, self.Y)
        else:
            state = None
            if self.comm.Get_rank() == 0:
                self.model.fit(self.X, self.Y)
                state = self.model.save_state()
            state = self.comm.bcast(state, root=0)
            if self.comm.Get_rank() != 0:
                self.model.restore_state(state)
        self.fitted = True

    def _predict(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        mean, std = self.model.predict(X)
        mean = np.asarray(mean, dtype=float).reshape(X.shape[0], -1)
        std = np.asarray(std, dtype=float).reshape(mean.shape)
        if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(std))):
            raise CouplingError(f"component '{self.name}': the surrogate model {type(self.model).__name__} "
                                "predicted NaN or infinity")
        return mean, std

    # -- checkpoints ----------------------------------------------------------------
    def save_state(self) -> dict[str, Any]:
        """Training set, model state, window count and report, as a checkpointable tree."""
        fields = ("window", *REPORT_FIELDS)
        return {
            "X": np.zeros((0, 0)) if self.X is None else self.X.copy(),
            "Y": np.zeros((0, 0)) if self.Y is None else self.Y.copy(),
            "fitted": self.fitted,
            "windows": self.windows,
            "model": self.model.save_state() if self.fitted else None,
            "report": {f: np.asarray([r[f] for r in self.report], dtype=float) for f in fields},
        }

    def restore_state(self, state: Mapping[str, Any]) -> None:
        """Return to :meth:`save_state`'s snapshot (the model restored, not refit)."""
        self.X = None if state["X"].size == 0 else np.array(state["X"])
        self.Y = None if state["Y"].size == 0 else np.array(state["Y"])
        self.fitted = bool(state["fitted"])
        self.windows = int(state["windows"])
        if self.fitted:
            self.model.restore_state(state["model"])
        report = state["report"]
        count = len(report["window"])
        self.report = [{f: float(report[f][i]) for f in report} for i in range(count)]


def make_gate(spec: Any, name: str, lookup: Callable[[str], Callable[..., Any]], comm: Any = None) -> SurrogateGate:
    """Build a :class:`SurrogateGate` from ``surrogate={...}`` (a fresh model each call).

    ``spec["model"]`` is a registered key (looked up with ``lookup``), a factory
    (class or callable taking ``seed=`` and the ``model_options``), or a model
    instance (deep-copied, so every run starts unfitted).
    """
    if not isinstance(spec, Mapping) or "model" not in spec or "tolerance" not in spec:
        raise ConfigurationError(f"component '{name}': surrogate= must be a mapping with at least 'model' and "
                                 f"'tolerance', e.g. {{'model': 'ml.gp', 'tolerance': 1e-3, 'audit': 0.05}}; "
                                 f"got {spec!r}")
    unknown = sorted(set(spec) - {"model", "model_options", *GATE_KEYS})
    if unknown:
        raise ConfigurationError(f"component '{name}': surrogate has no option(s) {unknown}; its options: model, "
                                 f"model_options, {', '.join(GATE_KEYS)}")
    options = dict(spec.get("model_options") or {})
    seed = spec.get("seed", 0)
    model = spec["model"]
    if isinstance(model, str):
        model = lookup(model)(seed=seed, **options)
    elif isinstance(model, type) or (callable(model) and not hasattr(model, "predict")):
        model = model(seed=seed, **options)
    else:
        if options:
            raise ConfigurationError(f"component '{name}': surrogate model_options apply to a key or factory, "
                                     "not to a built model")
        model = copy.deepcopy(model)
    gate_options = {k: spec[k] for k in GATE_KEYS if k in spec}
    return SurrogateGate(model, comm=comm, name=name, **gate_options)
