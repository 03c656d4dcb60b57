"""Discovery (``msm plugins``) and self-description (``msm show quantum.scf``)."""

from __future__ import annotations

import pytest

import msmcore as msm
from msmcore.show import describe_component


def test_registered_and_described():
    registry = msm.get_registry()
    assert "quantum.scf" in registry.keys()
    desc = describe_component("quantum.scf", {"atoms": [["H", 0, 0, 0], ["H", 0, 0, 0.74]],
                                              "embedding": "electrostatic", "mm_count": 5})
    settings = {s["name"]: s for s in desc.settings}
    for name in ("atoms", "xyz", "units", "charge", "spin", "basis", "method", "xc", "conv_tol", "max_cycles",
                 "embedding", "mm_count", "mm_radius", "cutoff", "switch_width", "population"):
        assert name in settings, name
    assert settings["method"]["choices"] == ["rhf", "uhf", "rks", "uks"] or \
        tuple(settings["method"]["choices"]) == ("rhf", "uhf", "rks", "uks")
    ports = {p["name"]: p for p in desc.ports}
    assert ports["positions_in"]["shape"] in ([2], (2,)) and ports["positions_in"]["units"] == "bohr"
    assert ports["mm_positions_in"]["shape"] in ([5], (5,)) and ports["mm_charges_in"]["units"] == "e"
    assert ports["energy_out"]["units"] == "Eh/molecule"
    assert ports["forces_out"]["units"] == ports["mm_forces_out"]["units"] == "Eh/bohr/molecule"
    assert "meta-lowdin" in ports["charges_out"]["doc"]
    text = desc.to_text()
    assert "quantum.scf" in text and "mm_forces_out" in text


def test_show_without_atoms_says_what_to_give():
    desc = describe_component("quantum.scf")
    assert desc.ports is None and "atoms" in desc.ports_note


def test_yaml_configuration(tmp_path):
    from msmcore.config import load_config

    path = tmp_path / "h2.yaml"
    path.write_text("""\
components:
  qm:
    component: quantum.scf
    atoms: [[H, 0, 0, 0], [H, 0, 0, 1.4]]
    units: bohr
    basis: sto-3g
    threads: 1
scheme: {type: serial, window: 1.0}
run:
  until: 1.0
""")
    res = load_config(path).run(quiet=True)
    energy = res["qm"]["energy_out"]
    # Szabo & Ostlund §3.5.2, as in test_validation; the result file keeps the port's units.
    assert float(energy.values[-1].squeeze()) == pytest.approx(-1.1167, abs=1e-4)
    assert energy.attrs["units"] == "Eh/molecule"
