"""State: the density-matrix guess is declared, saved and restored; runs repeat after finalize."""

from __future__ import annotations

import numpy as np

from msmcore.component import Component

OUTPUTS = ("energy_out", "forces_out", "mm_forces_out", "charges_out", "dipole_out")


def _move(qm, step, positions):
    qm.port_array("positions_in")[0, 0] += 0.02 * step
    qm.port_array("mm_positions_in")[...] = positions + 0.05 * step


def test_save_advance_restore_advance_is_bit_identical(water, mm_sites):
    positions, charges = mm_sites
    assert type(water()).declares_state()
    qm = water(embedding="electrostatic", mm_count=3, cutoff=4.5, switch_width=1.0)
    qm.initialize()
    qm.port_array("mm_charges_in")[...] = charges
    _move(qm, 1, positions)
    qm.advance(1.0)
    saved = qm.save_state()
    guess = qm._dm.copy()
    _move(qm, 2, positions)
    qm.advance(2.0)
    first = {p: qm.port_array(p).copy() for p in OUTPUTS}
    info = dict(qm.scf_info)
    # Other inputs arrive in between (as in an implicit iteration), then the window is repeated.
    qm.port_array("mm_charges_in")[...] = -charges
    qm.advance(3.0)
    qm.restore_state(saved)
    assert qm.t == 1.0 and np.array_equal(qm._dm, guess)
    assert np.abs(guess).max() > 0.1  # a real density matrix, not an empty placeholder
    qm.port_array("mm_charges_in")[...] = charges
    _move(qm, 2, positions)
    qm.advance(2.0)
    for p in OUTPUTS:
        assert np.array_equal(qm.port_array(p), first[p]), p
    assert qm.scf_info == info  # same guess, same number of SCF cycles


def test_guess_is_the_previous_density(water):
    qm = water(basis="6-31g")
    qm.initialize()
    cold = qm.scf_info["cycles"]
    qm.port_array("positions_in")[1, 0] += 0.01
    qm.advance(1.0)
    assert qm.scf_info["cycles"] < cold  # a small move from the last density converges faster than minao


def test_initialize_after_finalize_starts_afresh(water):
    qm = water()
    qm.initialize()
    start = qm.port_array("forces_out").copy()
    qm.port_array("positions_in")[1, 0] += 0.1
    qm.advance(1.0)
    qm.finalize()
    assert qm.port_array("energy_out")[0] < 0  # outputs stay readable after finalize
    qm.initialize()
    assert qm.t == 0.0
    assert np.allclose(qm.port_array("forces_out"), start, atol=1e-9)
    assert isinstance(qm, Component)
