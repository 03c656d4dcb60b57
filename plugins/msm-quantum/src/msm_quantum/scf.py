"""The ``quantum.scf`` component: a Hartree-Fock or Kohn-Sham SCF of a QM region on PySCF."""

from __future__ import annotations

import logging
import time
import warnings
from typing import Any

import numpy as np

import msmcore as msm
from msm_quantum.geometry import ANGSTROM_IN_BOHR, atom_list, nuclear_charge, radii_setting, read_xyz, switch

__all__ = ["QuantumSCF"]

logger = logging.getLogger(__name__)

METHODS = ("rhf", "uhf", "rks", "uks")
_DFT = ("rks", "uks")

#: Port units: atomic units, energies per QM system ("molecule", 1/N_A mol; see msmcore.units).
LENGTH, CHARGE, DIPOLE = "bohr", "e", "e*bohr"
ENERGY, FORCE = "Eh/molecule", "Eh/bohr/molecule"


class QuantumSCF(msm.Component):
    """Hartree-Fock or Kohn-Sham SCF of a QM region on PySCF: energy, forces, charges, dipole.

    The QM atoms come from ``atoms`` or an ``xyz`` file; ``positions_in``
    (bohr) moves them. :meth:`initialize` runs the SCF at the initial geometry
    and every :meth:`advance` runs it again at the current inputs (one SCF per
    coupling window), starting from the previous step's density matrix. With
    ``embedding="electrostatic"`` the one-electron Hamiltonian holds the
    ``mm_count`` MM charges of ``mm_charges_in`` at ``mm_positions_in``
    (points, or Gaussians of radius ``mm_radius``), the energy includes their
    Coulomb energy with the QM nuclei, and ``mm_forces_out`` holds the forces
    on them (:mod:`msm_quantum.embedding`). A ``cutoff`` scales each MM charge
    by a quintic switch of its distance to the centroid of the QM atoms
    (:func:`msm_quantum.geometry.switch`); the forces include the switch's
    derivative on MM and QM atoms, so they remain the exact gradient.

    Ports
    -----
    positions_in (input, optional)
        QM atom positions, ``(n_qm, 3)`` bohr; holds the initial geometry until received.
    mm_positions_in, mm_charges_in (inputs, with embedding)
        MM sites ``(mm_count, 3)`` bohr and charges ``(mm_count,)`` e.
    energy_out
        Total energy ``(1,)``, hartree per QM system (``"Eh/molecule"``).
    forces_out, mm_forces_out
        Forces (minus the gradient of ``energy_out``) on the QM atoms and MM sites,
        hartree/bohr per QM system.
    charges_out
        Partial charges of the QM atoms, e: meta-Löwdin populations by default
        (``population``), or Mulliken's.
    dipole_out
        Dipole moment of the QM electrons and nuclei about the origin, e·bohr.

    Notes
    -----
    State: the last density matrix (the next SCF's guess), the last SCF's
    summary, the port arrays and ``t``. The SCF runs on one rank: on a
    component communicator of several ranks, rank 0 holds every port value
    and computes, the others hold empty port arrays and idle, so place the
    component on a single rank (``ranks=...``).
    """

    # -- the molecule -------------------------------------------------------------------
    atoms = msm.Setting(atom_list, default=None, units="see units",
                        doc="QM atoms as [symbol, x, y, z] (or give xyz)")
    xyz = msm.Setting(str, default=None, doc="path of an .xyz file with the QM atoms (instead of atoms)")
    units = msm.Setting(str, default="angstrom", choices=("angstrom", "bohr"),
                        doc="units of the coordinates and of mm_radius, cutoff, switch_width")
    charge = msm.Setting(int, default=0, units="e", doc="net charge of the QM region")
    spin = msm.Setting(int, default=0, minimum=0, doc="2S = N_alpha - N_beta")
    basis = msm.Setting(str, default="sto-3g", doc="basis set name known to PySCF, e.g. 'sto-3g', '6-31g*'")
    cartesian = msm.Setting(bool, default=False, doc="Cartesian d, f functions (6d) instead of spherical (5d)")
    # -- the method ---------------------------------------------------------------------
    method = msm.Setting(str, default="rhf", choices=METHODS, doc="restricted/unrestricted HF or Kohn-Sham")
    xc = msm.Setting(str, default=None, doc="exchange-correlation functional for rks/uks, e.g. 'pbe', 'b3lyp'")
    grid_level = msm.Setting(int, default=3, minimum=0, maximum=9, doc="DFT integration grid level")
    conv_tol = msm.Setting(float, default=1e-10, minimum=1e-15, units="Eh", doc="SCF energy tolerance")
    conv_tol_grad = msm.Setting(float, default=None, doc="SCF orbital-gradient tolerance (default sqrt(conv_tol))")
    max_cycles = msm.Setting(int, default=100, minimum=1, doc="SCF iteration limit")
    guess = msm.Setting(str, default="minao", choices=("minao", "atom", "huckel", "1e"),
                        doc="initial guess of the first SCF (later ones start from the last density)")
    population = msm.Setting(str, default="meta_lowdin", choices=("meta_lowdin", "mulliken"),
                             doc="partial charges of charges_out")
    threads = msm.Setting(int, default=0, minimum=0,
                          doc="OpenMP threads of PySCF for this process (0: leave PySCF's setting)")
    # -- embedding ----------------------------------------------------------------------
    embedding = msm.Setting(str, default="none", choices=("none", "electrostatic"),
                            doc="electrostatic: MM charges in the QM Hamiltonian")
    mm_count = msm.Setting(int, default=0, minimum=0, doc="number of MM charges (embedding)")
    mm_radius = msm.Setting(radii_setting, default=(0.0,), units="see units",
                            doc="Gaussian radius of the MM charges, one or one per charge (0: point)")
    cutoff = msm.Setting(float, default=0.0, minimum=0.0, units="see units",
                         doc="MM charges beyond this distance from the QM centroid are switched off (0: none)")
    switch_width = msm.Setting(float, default=0.0, minimum=0.0, units="see units",
                               doc="width of the quintic switch ending at cutoff")

    state_attributes = ("_dm", "scf_info")

    def __init__(self, name: str | None = None, **settings: Any) -> None:
        super().__init__(name, **settings)
        self._symbols, self._coords0 = self._check_atoms()
        self._length = 1.0 if self.units == "bohr" else ANGSTROM_IN_BOHR
        self._check_electrons()
        self._radii, self._cutoff, self._width = self._check_embedding()
        self._check_pyscf_names()
        self._mol: Any = None
        self._mf: Any = None
        self._grad: Any = None
        self._pre_orth: np.ndarray | None = None
        self._idle = False
        self._dm: np.ndarray | None = None
        #: Summary of the last SCF: energy, cycles, last energy change, converged.
        self.scf_info: dict[str, Any] = {}
        #: Seconds of the last compute: ``scf`` (PySCF's kernel), ``gradient``, ``total``.
        self.timings: dict[str, float] = {}

    # -- validation -----------------------------------------------------------------------
    def _err(self, setting: str, message: str) -> msm.ConfigurationError:
        return msm.ConfigurationError(f"setting '{setting}' of component '{self.name}' (quantum.scf): {message}",
                                      component=self.name)

    def _check_atoms(self) -> tuple[tuple[str, ...], np.ndarray]:
        if (self.atoms is None) == (self.xyz is None):
            raise self._err("atoms/xyz", "give the QM atoms either as atoms=[[symbol, x, y, z], ...] or as "
                            "xyz='file.xyz'" + (" (not both)" if self.atoms is not None else ""))
        if self.atoms is not None:
            atoms = self.atoms
        else:
            try:
                atoms = read_xyz(self.xyz)
            except ValueError as exc:
                raise self._err("xyz", str(exc)) from None
        scale = 1.0 if self.units == "bohr" else ANGSTROM_IN_BOHR
        coords = np.array([a[1:] for a in atoms], dtype=np.float64) * scale
        return tuple(a[0] for a in atoms), coords

    def _check_electrons(self) -> None:
        electrons = sum(nuclear_charge(s) for s in self._symbols) - self.charge
        if electrons < 1:
            raise self._err("charge", f"charge={self.charge} leaves {electrons} electrons in the QM region")
        if self.spin > electrons or (electrons - self.spin) % 2:
            raise self._err("spin", f"spin={self.spin} (2S) is impossible with {electrons} electrons; "
                            f"use a spin of the same parity as the electron count, at most {electrons}")
        if self.method in ("rhf", "rks") and self.spin:
            raise self._err("method", f"method={self.method!r} is closed-shell but spin={self.spin}; use "
                            f"{'uhf' if self.method == 'rhf' else 'uks'} for an open shell")
        if self.method in _DFT and not self.xc:
            raise self._err("xc", f"method={self.method!r} (Kohn-Sham DFT) needs a functional, e.g. xc='pbe'")
        if self.method not in _DFT and self.xc is not None:
            raise self._err("xc", f"xc={self.xc!r} is a DFT functional, but method={self.method!r} is "
                            "Hartree-Fock; use method='rks' or 'uks', or leave xc unset")

    def _check_embedding(self) -> tuple[np.ndarray, float, float]:
        n = self.mm_count
        if self.embedding == "none":
            for setting, value in (("mm_count", n), ("cutoff", self.cutoff), ("switch_width", self.switch_width)):
                if value:
                    raise self._err(setting, f"{setting}={value} needs embedding='electrostatic'")
            return np.zeros(0), 0.0, 0.0
        if n < 1:
            raise self._err("mm_count", "embedding='electrostatic' needs mm_count >= 1, the number of MM "
                            "charges the MD side sends (the size of mm_positions_in and mm_charges_in)")
        radii = np.asarray(self.mm_radius, dtype=np.float64)
        if radii.size not in (1, n):
            raise self._err("mm_radius", f"{radii.size} radii given for mm_count={n} charges; give one radius "
                            "for all or one per charge")
        if self.cutoff > 0 and not 0 < self.switch_width <= self.cutoff:
            raise self._err("switch_width", f"a cutoff ({self.cutoff:g}) needs 0 < switch_width <= cutoff, got "
                            f"{self.switch_width:g} (a hard cutoff would make the energy jump)")
        if self.switch_width and not self.cutoff:
            raise self._err("switch_width", "switch_width needs a cutoff > 0")
        scale = 1.0 if self.units == "bohr" else ANGSTROM_IN_BOHR
        return np.broadcast_to(radii * scale, (n,)).copy(), self.cutoff * scale, self.switch_width * scale

    def _check_pyscf_names(self) -> None:
        from pyscf.gto import basis as pyscf_basis

        for element in sorted(set(self._symbols)):
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # PySCF suggests basis-set-exchange for unknown names
                    shells = pyscf_basis.load(self.basis, element)
            except Exception as exc:  # noqa: BLE001 - PySCF raises BasisNotFoundError, KeyError, RuntimeError
                raise self._err("basis", f"PySCF has no basis {self.basis!r} for {element} "
                                f"({type(exc).__name__}: {exc}); use e.g. 'sto-3g', '6-31g', '6-31g*', "
                                "'cc-pvdz'") from None
            if not shells:
                raise self._err("basis", f"basis {self.basis!r} has no functions for {element}")
        if self.xc is not None:
            from pyscf.dft import libxc

            try:
                libxc.parse_xc(self.xc)
            except Exception as exc:  # noqa: BLE001 - libxc raises KeyError/ValueError on unknown names
                raise self._err("xc", f"PySCF/libxc does not know the functional {self.xc!r} "
                                f"({type(exc).__name__}: {exc}); use e.g. 'lda', 'pbe', 'b3lyp', 'pbe0'") from None

    # -- ports ------------------------------------------------------------------------------
    @property
    def n_qm(self) -> int:
        """Number of QM atoms."""
        return len(self._symbols)

    @property
    def symbols(self) -> tuple[str, ...]:
        """Element symbols of the QM atoms."""
        return self._symbols

    def declare_ports(self) -> list[msm.Port]:
        """QM positions in (and MM sites with embedding); energy, forces, charges, dipole out."""
        n, xyz = self.n_qm, {"components": 3, "value_names": ("x", "y", "z"), "value_dim": "xyz"}
        ports = [
            msm.Port.input("positions_in", n, required=False, units=LENGTH, **xyz,
                           doc="QM atom positions (initial geometry until received)"),
            msm.Port.output("energy_out", 1, units=ENERGY, doc="total (embedded) SCF energy"),
            msm.Port.output("forces_out", n, units=FORCE, **xyz, doc="forces on the QM atoms"),
            msm.Port.output("charges_out", n, units=CHARGE,
                            doc=f"{self.population.replace('_', '-')} partial charges of the QM atoms"),
            msm.Port.output("dipole_out", 3, units=DIPOLE, doc="dipole moment of the QM region about the origin"),
        ]
        if self.embedding == "electrostatic":
            m = self.mm_count
            ports += [
                msm.Port.input("mm_positions_in", m, units=LENGTH, **xyz, doc="MM charge positions"),
                msm.Port.input("mm_charges_in", m, units=CHARGE, doc="MM charges"),
                msm.Port.output("mm_forces_out", m, units=FORCE, **xyz, doc="forces on the MM charges"),
            ]
        return ports

    # -- lifecycle --------------------------------------------------------------------------------
    def time_step(self) -> float | None:
        """``None``: one SCF per coupling window, whatever its length."""
        return None

    def initialize(self) -> None:
        """Build the molecule and SCF objects and run the SCF at the initial geometry."""
        self.t = 0.0
        self._dm = None
        self.scf_info = {}
        # The SCF runs on rank 0 of the component's ranks, which holds every port value (the default
        # layout of a serial component); other ranks hold empty port arrays and idle.
        self._idle = self.comm is not None and self.comm.Get_rank() != 0
        if self._idle:
            if self.comm.Get_rank() == 1:
                logger.info("component '%s' (quantum.scf): the SCF runs on one rank; %d rank(s) idle - place it "
                            "on a single rank (ranks=...)", self.name, self.comm.Get_size() - 1)
            return
        from pyscf import gto

        self._mol = gto.M(atom=[(s, tuple(c)) for s, c in zip(self._symbols, self._coords0, strict=True)],
                          unit="Bohr", basis=self.basis, charge=self.charge, spin=self.spin,
                          cart=self.cartesian, verbose=0)
        self._mf = self._make_scf(self._mol)
        self._pre_orth = None
        self._grad = self._mf.nuc_grad_method()
        if self.method in _DFT:
            self._grad.grid_response = True  # forces are the exact gradient of the energy on the moving grid
        self.port_array("positions_in")[...] = self._coords0
        self.compute(self.t)

    def _make_scf(self, mol: Any) -> Any:
        from pyscf import dft, scf

        builders = {"rhf": scf.RHF, "uhf": scf.UHF, "rks": dft.RKS, "uks": dft.UKS}
        mf = builders[self.method](mol)
        if self.method in _DFT:
            mf.xc = self.xc
            mf.grids.level = self.grid_level
        mf.conv_tol = self.conv_tol
        if self.conv_tol_grad is not None:
            mf.conv_tol_grad = self.conv_tol_grad
        mf.max_cycle = self.max_cycles
        mf.init_guess = self.guess
        mf.verbose = 0
        return mf

    def advance(self, t_end: float) -> None:
        """Run the SCF at the current inputs; ``self.t`` becomes ``t_end``."""
        if not self._idle:
            self.compute(t_end)
        self.t = t_end

    def finalize(self) -> None:
        """Release the PySCF objects; the port arrays stay readable."""
        self._mol = self._mf = self._grad = self._pre_orth = None

    # -- the SCF -------------------------------------------------------------------------------
    def compute(self, t: float) -> None:
        """SCF, gradient and properties at the current port inputs; writes every output port.

        Raises
        ------
        ConvergenceError
            The SCF did not reach ``conv_tol`` within ``max_cycles``.
        CouplingError
            An input holds NaN/infinity, or an MM point charge sits on a QM nucleus.
        """
        if self._mf is None:
            raise msm.CouplingError(f"component '{self.name}': compute() called before initialize()")
        from pyscf.scf import hf

        from msm_quantum import embedding as emb

        start = time.perf_counter()
        if self.threads:
            from pyscf import lib

            lib.num_threads(self.threads)
        mol, mf = self._mol, self._mf
        coords = self._finite("positions_in").reshape(self.n_qm, 3)
        mol.set_geom_(coords.copy(), unit="Bohr")
        mf.reset(mol)
        sites = self._sites(coords) if self.embedding == "electrostatic" else None
        if sites is not None:
            h = hf.get_hcore(mol) + emb.mm_hcore(mol, sites.mm)
            e_nuc = mol.energy_nuc() + emb.nuclear_mm_energy(mol, sites.mm)
            mf.get_hcore = lambda *args, **kwargs: h
            mf.energy_nuc = lambda *args, **kwargs: e_nuc
        changes: list[float] = []
        mf.callback = lambda env: changes.append(float(env["e_tot"] - env["last_hf_e"]))
        t_scf = time.perf_counter()
        mf.kernel(dm0=self._dm)
        t_scf = time.perf_counter() - t_scf
        self.scf_info = {"energy": float(mf.e_tot), "cycles": int(mf.cycles), "converged": bool(mf.converged),
                         "last_change": changes[-1] if changes else float("nan")}
        if not mf.converged:
            raise msm.ConvergenceError(
                f"component '{self.name}' (quantum.scf): the {self.method.upper()} SCF did not converge at "
                f"t={t:g} within {mf.cycles} cycles (max_cycles={self.max_cycles}); last energy change "
                f"{self.scf_info['last_change']:.3e} Eh (conv_tol={self.conv_tol:g}), last energy "
                f"{mf.e_tot:.10f} Eh. Raise max_cycles, try another guess, or check the geometry",
                component=self.name)
        dm = np.asarray(mf.make_rdm1())
        self._dm = dm.copy()
        dm_total = dm if dm.ndim == 2 else dm[0] + dm[1]
        t_grad = time.perf_counter()
        gradient = np.asarray(self._grad.kernel(), dtype=np.float64)
        if sites is not None:
            g_qm, g_mm = sites.gradients(mol, dm_total)
            gradient = gradient + g_qm
            self.port_array("mm_forces_out")[...] = -g_mm
        t_grad = time.perf_counter() - t_grad
        self.port_array("energy_out")[0] = mf.e_tot
        self.port_array("forces_out")[...] = -gradient
        self.port_array("charges_out")[...] = self._charges(mol, mf, dm_total)
        self.port_array("dipole_out")[...] = hf.dip_moment(mol, dm_total, unit="AU", verbose=0)
        self.timings = {"scf": t_scf, "gradient": t_grad, "total": time.perf_counter() - start}

    def _charges(self, mol: Any, mf: Any, dm: np.ndarray) -> np.ndarray:
        from pyscf.scf import hf

        s = mf.get_ovlp(mol)
        if self.population == "mulliken":
            return np.asarray(hf.mulliken_pop(mol, dm, s=s, verbose=0)[1])
        # hf.mulliken_meta, with the atom-local pre-orthogonalisation (a projection on PySCF's ANO basis,
        # independent of the geometry) computed once in initialize() instead of re-reading the ANO file.
        from pyscf.lo import orth

        if self._pre_orth is None:
            self._pre_orth = orth.pre_orth_ao(mol, "ANO")  # mulliken_meta's default
        c = orth.orth_ao(mol, "meta_lowdin", pre_orth_ao=self._pre_orth, s=s)
        c_inv = c.T @ s
        return np.asarray(hf.mulliken_pop(mol, c_inv @ dm @ c_inv.T, s=np.eye(c.shape[0]), verbose=0)[1])

    def _finite(self, port: str) -> np.ndarray:
        values = self.port_array(port)
        if not np.isfinite(values).all():
            bad = int(np.flatnonzero(~np.isfinite(values.reshape(-1)))[0])
            raise msm.CouplingError(f"component '{self.name}' (quantum.scf): input '{port}' holds NaN or "
                                    f"infinity (first at flat index {bad})", component=self.name)
        return values

    def _sites(self, coords: np.ndarray) -> _Sites:
        positions = self._finite("mm_positions_in").reshape(self.mm_count, 3)
        charges = self._finite("mm_charges_in").reshape(self.mm_count)
        sites = _Sites(coords, positions, charges, self._radii, self._cutoff, self._width)
        near = sites.closest_point_charge()
        if near is not None and near[2] < 1e-6:
            raise msm.CouplingError(
                f"component '{self.name}' (quantum.scf): MM point charge {near[0]} sits on QM atom {near[1]} "
                f"(distance {near[2]:.2e} bohr); exclude the QM atoms from the MM charges or give mm_radius",
                component=self.name)
        return sites


class _Sites:
    """The MM charges of one step: switched, the inactive ones (zero charge) left out."""

    def __init__(self, qm: np.ndarray, positions: np.ndarray, charges: np.ndarray, radii: np.ndarray,
                 cutoff: float, width: float) -> None:
        from msm_quantum.embedding import MMCharges

        self.n, self.n_qm = charges.size, qm.shape[0]
        self.offset = positions - qm.mean(axis=0)
        self.distance = np.linalg.norm(self.offset, axis=1)
        self.s, self.ds = switch(self.distance, cutoff, width)
        self.q0 = charges.astype(np.float64)
        q = self.q0 * self.s
        self.active = np.flatnonzero(q != 0.0)
        self.shell = np.flatnonzero((self.ds != 0.0) & (self.q0 != 0.0))
        self.positions, self.radii, self.qm = positions, radii, qm
        self.mm = MMCharges(positions[self.active], q[self.active], radii[self.active])

    def closest_point_charge(self) -> tuple[int, int, float] | None:
        """(MM index, QM index, distance) of the nearest active point charge to a QM atom."""
        point = self.active[self.radii[self.active] <= 0.0]
        if not point.size:
            return None
        d = np.linalg.norm(self.positions[point][:, None, :] - self.qm[None, :, :], axis=2)
        k, a = np.unravel_index(int(np.argmin(d)), d.shape)
        return int(point[k]), int(a), float(d[k, a])

    def gradients(self, mol: Any, dm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Embedding gradients on QM atoms and all ``n`` MM sites, the switch's derivative included."""
        from msm_quantum.embedding import MMCharges, mm_gradients, potential_at_sites

        g_qm, g_active = mm_gradients(mol, dm, self.mm)
        g_mm = np.zeros((self.n, 3))
        g_mm[self.active] = g_active
        if self.shell.size:
            # E depends on q_k = q0_k S(|C_k - c|), c the QM centroid: dE/dq_k = phi_k (the QM potential).
            shell = MMCharges(self.positions[self.shell], np.ones(self.shell.size), self.radii[self.shell])
            phi = potential_at_sites(mol, dm, shell)
            unit = self.offset[self.shell] / self.distance[self.shell, None]
            term = (phi * self.q0[self.shell] * self.ds[self.shell])[:, None] * unit
            g_mm[self.shell] += term
            g_qm -= term.sum(axis=0) / self.n_qm
        return g_qm, g_mm
