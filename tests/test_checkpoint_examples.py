"""Checkpoint/restart of the Gray–Scott splitting and the hybrid MD–continuum Couette flow.

As in tests/test_checkpoint.py: a run interrupted by a failing component and resumed
from its checkpoint folder equals the uninterrupted run bit for bit. The Couette case
covers an OpenMM context with a Langevin thermostat, whose random-number state is in
the OpenMM checkpoint md.lj saves.
"""

from __future__ import annotations

import pytest
from checkpoint_parts import assert_same, crash_after
from example_loader import load_example

import msmcore as msm

pytest.importorskip("msm_fluid")
pytest.importorskip("msm_kinetics")


def test_gray_scott_resumes_bit_for_bit(tmp_path):
    gs = load_example("gray_scott", "gray_scott")
    c, scheme = gs.build(n=12)
    full = c.run(until=8.0, scheme=scheme, quiet=True)
    c, scheme = gs.build(n=12)
    crash_after(c, "v", 5.5)
    with pytest.raises(msm.CouplingError, match="injected failure"):
        c.run(until=8.0, scheme=scheme, quiet=True, checkpoint=msm.Checkpoints(every=2.0, path=tmp_path / "gs"))
    c, scheme = gs.build(n=12)
    resumed = c.run(until=8.0, scheme=scheme, quiet=True, resume=tmp_path / "gs")
    assert_same(resumed, full)


def test_md_couette_with_langevin_thermostat_resumes_bit_for_bit(tmp_path, monkeypatch):
    pytest.importorskip("openmm")
    pytest.importorskip("msm_md")
    couette = load_example("couette_hybrid", "couette")
    tiny = couette.Setup(cells=(4, 8, 4), n_bins=16, boundary_bin=9, constraint_bins=(12, 13), n_cont=11,
                         U=1.0, until=2.0, window=0.25, equilibrate=50)
    monkeypatch.setattr(couette, "setup", lambda reduced=False: tiny)

    def scheme() -> msm.Scheme:
        return msm.Serial(window=tiny.window, order=["md", "continuum"])

    # md.lj rebuilds its OpenMM context when it saves its state (so that a save and a restore
    # continue alike): the reference takes the same snapshots as the interrupted run.
    def ckpt(name: str) -> msm.Checkpoints:
        return msm.Checkpoints(every=2 * tiny.window, keep=5, path=tmp_path / name)

    c, _ = couette.build(reduced=True, seed=3)
    full = c.run(until=tiny.until, scheme=scheme(), quiet=True, checkpoint=ckpt("full"))
    c, _ = couette.build(reduced=True, seed=3)
    crash_after(c, "continuum", 1.1)
    with pytest.raises(msm.CouplingError, match="injected failure"):
        c.run(until=tiny.until, scheme=scheme(), quiet=True, checkpoint=ckpt("cut"))
    c, _ = couette.build(reduced=True, seed=3)
    resumed = c.run(until=tiny.until, scheme=scheme(), quiet=True, checkpoint=ckpt("cut"), resume=tmp_path / "cut")
    assert_same(resumed, full)
    assert resumed["md"]["velocity_out"].values[-1].any()  # the thermostat and the wall moved the fluid
    # Everything random comes back from the snapshot (the Langevin RNG state included): a
    # coupling built with another seed resumes to the same result, but runs from t = 0 to another.
    c, _ = couette.build(reduced=True, seed=4)
    other_seed = c.run(until=tiny.until, scheme=scheme(), quiet=True, checkpoint=ckpt("cut2"),
                       resume=tmp_path / "cut" / "snapshot-000000000004.h5")
    assert_same(other_seed, full)
    c, _ = couette.build(reduced=True, seed=4)
    fresh = c.run(until=tiny.until, scheme=scheme(), quiet=True, checkpoint=ckpt("fresh"))
    assert not fresh["md"].equals(full["md"])
