"""``make bench``: run every benchmark and print its figures as Markdown tables.

The numbers recorded in docs/benchmarks.md come from this output.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _json(stdout: str) -> dict:
    """A benchmark's figures: its last line, or its whole output for those printing indented JSON."""
    text = stdout.strip()
    try:
        return json.loads(text.splitlines()[-1])
    except json.JSONDecodeError:
        return json.loads(text)


def run(script: str, *args: str) -> dict:
    proc = subprocess.run([sys.executable, str(HERE / script), *args], check=True, capture_output=True, text=True)
    return _json(proc.stdout)


def flat_table(data: dict, prefix: str = "") -> str:
    """Every figure of a nested JSON object as one ``| name | value |`` row (dotted names)."""
    rows = [] if prefix else ["| figure | value |", "|---|---|"]
    for key, value in data.items():
        name = f"{prefix}{key}"
        if key == "machine":
            continue
        if isinstance(value, dict):
            rows.append(flat_table(value, name + "."))
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            rows.extend(flat_table(v, f"{name}[{i}].") for i, v in enumerate(value))
        else:
            shown = f"{value:.4g}" if isinstance(value, float) else json.dumps(value)
            rows.append(f"| {name} | {shown} |")
    return "\n".join(rows)


def exchange_table(data: dict) -> str:
    rows = ["| payload | numpy copyto | PETSc VecCopy | msmcore transfer | msmcore / VecCopy |",
            "|---|---|---|---|---|"]
    for label, key, nbytes in (("100 doubles", "small_100", 800), ("80 MB", "large_80MB", 80_000_000)):
        d = data[key]
        if nbytes < 10_000:
            cells = [f"{d[k] * 1e6:.2f} µs" for k in ("numpy_s", "veccopy_s", "msmcore_s")]
        else:
            cells = [f"{d[k] * 1e3:.2f} ms ({nbytes / d[k] / 1e9:.2f} GB/s)"
                     for k in ("numpy_s", "veccopy_s", "msmcore_s")]
        rows.append(f"| {label} | {' | '.join(cells)} | {d['msmcore_s'] / d['veccopy_s']:.2f} |")
    return "\n".join(rows)


def rd_table(data: dict) -> str:
    ours, peer = data["msmcore"], data["muscle3"]
    rows = ["| | msmcore | MUSCLE3 " + peer["muscle3_version"] + " | MUSCLE3 / msmcore |", "|---|---|---|---|",
            f"| coupled run (no start-up, no imports) | {ours['coupled_run_s'] * 1e3:.1f} ms | "
            f"{peer['median_coupled_run_s'] * 1e3:.1f} ms | "
            f"{peer['median_coupled_run_s'] / ours['coupled_run_s']:.0f}x |",
            "| MUSCLE3's macro loop alone (inside its process, without manager start-up and 0.5 s polling) "
            f"vs msmcore's whole coupled run | {ours['coupled_run_s'] * 1e3:.1f} ms | "
            f"{peer['median_macro_loop_s'] * 1e3:.1f} ms | "
            f"{peer['median_macro_loop_s'] / ours['coupled_run_s']:.0f}x |",
            f"| whole process wall time | {ours['wall_s']:.2f} s | {peer['median_wall_s']:.2f} s | "
            f"{peer['median_wall_s'] / ours['wall_s']:.1f}x |",
            f"| max relative difference to numpy reference | {ours['max_rel_diff']:.1e} | "
            f"{peer['max_rel_diff']:.1e} | |"]
    split = (f"msmcore's coupled run: {ours['compute_s'] * 1e3:.1f} ms in the two components, "
             f"{ours['exchange_s'] * 1e3:.2f} ms in exchanges (100 transfers).")
    return "\n".join(rows) + "\n\n" + split


def heat_tables(data: dict) -> str:
    o = data["overhead_256"]
    rows = ["| acceleration | iterations per window | total |", "|---|---|---|"]
    for name, its in data["iterations_11"].items():
        rows.append(f"| {name} | {' '.join(map(str, its))} | {sum(its)} |")
    overhead = (f"Partitioned heat, {o['nodes']} x {o['nodes']} nodes per side, IQN-ILS, "
                f"{o['iterations']} iterations over 10 windows: run {o['wall_s']:.2f} s, solvers "
                f"{o['solver_s']:.2f} s, coupling overhead {100 * o['overhead_share']:.2f} % of the run.")
    return "\n".join(rows) + "\n\n" + overhead


def run_mpi(script: str, ranks: int = 2) -> dict:
    env = {**os.environ, "OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1"}
    proc = subprocess.run(["mpiexec", "--oversubscribe", "-n", str(ranks), sys.executable, str(HERE / script)],
                          check=True, capture_output=True, text=True, env=env)
    return _json(proc.stdout)


def mpi_table(data: dict) -> str:
    s, b = data["small_100"], data["large_80MB"]
    rows = ["| payload | raw mpi4py | msmcore transfer | ratio |", "|---|---|---|---|",
            f"| 100 doubles (latency) | round trip {s['raw_roundtrip_s'] * 1e6:.1f} µs | "
            f"{s['msmcore_s'] * 1e6:.1f} µs | {s['msmcore_s'] / s['raw_roundtrip_s']:.2f} of a round trip |",
            f"| 80 MB (bandwidth) | one way {b['raw_oneway_s'] * 1e3:.1f} ms ({0.08 / b['raw_oneway_s']:.2f} GB/s) | "
            f"{b['msmcore_s'] * 1e3:.1f} ms ({0.08 / b['msmcore_s']:.2f} GB/s) | "
            f"{100 * b['raw_oneway_s'] / b['msmcore_s']:.0f} % of raw bandwidth |"]
    return "\n".join(rows)


def ensemble_table(data: dict) -> str:
    c = data["ceiling_runs"]
    rows = ["| ensemble on rank 0 | on ranks 0 + 1 | speed-up | ceiling (same evaluations, no coupling: alone / "
            "both ranks at once) | efficiency vs ceiling | results equal |", "|---|---|---|---|---|---|",
            f"| {data['one_rank_s']:.2f} s | {data['two_ranks_s']:.2f} s | {data['speedup']:.2f}x | "
            f"{c['alone_s']:.2f} s / {c['both_s']:.2f} s = {data['ceiling']:.2f}x | "
            f"{100 * data['efficiency_vs_ceiling']:.0f} % | {data['results_equal']} |"]
    others, load = data["others_cpu_share_during_job"] or 0.0, data["load_average_1min_at_start"]
    return "\n".join(rows) + (f"\n\n{data['micro_runs']} micro runs; load average {load:.1f} at the start, "
                              f"other processes used {100 * others:.0f} % of the CPUs meanwhile.")


def kinetics_table(data: dict) -> str:
    sides = data["sides"]
    rows = ["| accuracy target | " + " | ".join(v["name"] for v in sides.values()) + " |",
            "|---|" + "---|" * len(sides)]
    for target in next(iter(sides.values()))["by_target"]:
        cells = []
        for v in sides.values():
            r = v["by_target"][target]
            cells.append(f"{r['median_s'] * 1e3:.1f} ms (error {r['error']:.1e}, rtol {r['rtol']:.1e})")
        rows.append(f"| {target} | " + " | ".join(cells) + " |")
    f = data["msmcore_field"]
    return "\n".join(rows) + (f"\n\nRobertson in {f['cells']} cells through one TS: {f['median_s']:.2f} s, "
                              f"{f['steps']} steps, {f['us_per_cell_step']:.2f} µs per cell-step.")


def main() -> None:
    exchange = run("bench_exchange.py")
    print(f"Machine: {exchange['machine']}\n")
    print("## Exchange cost in-process (median)\n")
    print(exchange_table(exchange) + "\n")
    rd = run("bench_rd.py")
    print("## Reaction-diffusion coupling vs MUSCLE3 (medians)\n")
    print(rd_table(rd) + "\n")
    print("## Exchange between components on different ranks (mpiexec -n 2, medians)\n")
    print(mpi_table(run_mpi("bench_mpi.py")) + "\n")
    ens = run_mpi("bench_ensemble.py")
    print("## Micro ensemble over 2 ranks: examples/hmm_surrogate all-micro (mpiexec -n 2, medians)\n")
    print(ensemble_table(ens) + "\n")
    print("## Stiff kinetics: Robertson to t = 40 vs SciPy (medians)\n")
    print(kinetics_table(run("bench_kinetics.py")) + "\n")
    gs = run("bench_gray_scott.py")
    print("## Coupled Gray-Scott step rate (medians)\n")
    print("| grid | steps/s | ms per step: reactions / u / v |\n|---|---|---|")
    for key in ("128", "512"):
        d = gs[key]
        parts = " / ".join(f"{v:.2f}" for v in d["ms_per_step_by_component"].values())
        print(f"| {key} x {key} | {d['steps_per_s']:.1f} | {parts} |")
    print()
    heat = run("bench_heat_overhead.py")
    print("## Implicit coupling: partitioned heat\n")
    print(heat_tables(heat) + "\n")
    md = run("bench_couette.py")
    print("## Hybrid MD-continuum Couette flow (full size, one run)\n")
    print(f"wall {md['wall_s']:.2f} s: MD {md['md_s']:.2f} s (+ {md.get('md_initialize_s', 0.0):.2f} s set-up), "
          f"continuum {md['continuum_s']:.3f} s, coupling overhead {md['overhead_s']:.2f} s = "
          f"{md['overhead_pct_of_md']:.2f} % of the MD time")
    ck = run("bench_checkpoint.py")
    print(f"\n## Checkpoints: partitioned heat {ck['nodes']} x {ck['nodes']}, IQN-ILS, {ck['windows']} windows "
          "(medians)\n")
    print(f"without checkpoints: {ck['no_checkpoint_s']:.2f} s\n")
    print("| snapshots | run | slowdown | snapshot size | write time per snapshot |\n|---|---|---|---|---|")
    for key, label in (("every_window", "every window"), ("every_10_windows", "every 10 windows")):
        d = ck[key]
        print(f"| {label} ({d['snapshots']}) | {d['wall_s']:.2f} s | {d['slowdown'] * 100:+.1f} % | "
              f"{d['snapshot_bytes'] / 1e6:.2f} MB | {d['write_s_per_snapshot'] * 1e3:.0f} ms |")
    prof = run("bench_profile.py")
    print("\n## Cost of profiling (profile=True vs False, paired medians)\n")
    print("| run | events | wall, profile on | wall, off | on - off | two clock reads + record per event, "
          "x events |\n|---|---|---|---|---|---|")
    for key, label in (("reaction_diffusion", "reaction-diffusion (examples/reaction_diffusion)"),
                       ("heat_256", "partitioned heat 256 x 256, IQN-ILS")):
        d = prof[key]
        print(f"| {label} | {d['events']} | {d['on_s'] * 1e3:.1f} ms | {d['off_s'] * 1e3:.1f} ms | "
              f"{d['paired_diff_pct']:+.2f} % | {d['record_s'] * 1e9:.0f} ns = {d['estimated_pct']:.2f} % |")
    cav = run("bench_cavity.py")  # ex19 is timed when $EX19_SRC names PETSc's src/snes/tutorials/ex19.c
    n = cav["nodes"]
    print(f"\n## Steady cavity Re = 100, {n} x {n}: fluid.navier_stokes vs PETSc ex19 (medians)\n")
    print(f"fluid.navier_stokes {cav['ours_s']:.2f} s ({cav['ours_newton']} Newton steps); "
          + (f"ex19 {cav['ex19_s']:.2f} s ({cav['ex19_newton']} Newton steps); ratio {cav['ratio_ours_over_ex19']:.2f}"
             if "ex19_s" in cav else f"ex19 {cav['ex19']}"))
    qmmm = run("bench_qmmm.py")
    print("\n## QM/MM water: time per step (examples/qmmm_water, medians)\n")
    print("| system | MM charges | SCF | MM (OpenMM) | coupling | coupling / SCF |\n|---|---|---|---|---|---|")
    for label, d in qmmm.items():
        if label == "machine":
            continue
        print(f"| {label} | {d['n_mm']} | {d['scf'] * 1e3:.1f} ms | {d['mm'] * 1e3:.2f} ms | "
              f"{d['coupling'] * 1e3:.2f} ms | {d['coupling_over_scf'] * 100:.2f} % |")

    qmmm = run("bench_qmmm_overhead.py")
    print("\n## QM/MM step: quantum.scf vs hand-written PySCF (medians)\n")
    print("| MM charges | pyscf step | component step (SCF + gradient) | msmcore per window | exchanges | "
          "msmcore / QM step |\n|---|---|---|---|---|---|")
    for d in qmmm["cases"]:
        print(f"| {d['n_mm']} | {d['pyscf'] * 1e3:.0f} ms | {d['component'] * 1e3:.0f} ms "
              f"({d['scf_grad'] * 1e3:.0f} ms) | {d['msmcore_s'] * 1e3:.1f} ms | {d['exchange_s'] * 1e3:.2f} ms | "
              f"{100 * d['msmcore_s'] / d['qm_advance_s']:.2f} % |")

    # The newer benchmarks: every figure they print, by name (docs/benchmarks.md explains each).
    for script, title in (("bench_fluid_solvers.py", "msm-fluid implicit solves: Jacobi vs GAMG (medians)"),
                          ("bench_natural_convection.py", "Natural convection: accuracy, iterations, overhead"),
                          ("bench_agents.py", "Dynamic ports: exchanges of changing agent sets, deposits (medians)"),
                          ("bench_cells.py", "cells.agents step cost per cell (medians)"),
                          ("bench_hmm.py", "HMM with a learned closure vs all-micro (medians)")):
        print(f"\n## {title} ({script})\n")
        print(flat_table(run(script)))


if __name__ == "__main__":
    main()
