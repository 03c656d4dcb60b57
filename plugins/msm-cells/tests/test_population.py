"""Cycle, death, volume and division of msm_cells.Population, against exact statistics."""

from __future__ import annotations

import numpy as np
import pytest
from msm_cells.cycle import LiveCycle, PhasedCycle
from msm_cells.population import APOPTOTIC, NECROTIC, PhenotypeParams, Population


def _cluster(n, dim=3, spacing=30.0):
    side = int(np.ceil(n ** (1 / dim)))
    grid = np.stack(np.meshgrid(*[np.arange(side)] * dim, indexing="ij"), -1).reshape(-1, dim)
    return grid[:n] * spacing


def test_live_model_grows_as_yule_process_mean():
    # Live model, unlimited oxygen, no death: each cell leaves 1 + Bernoulli(p) cells per step with
    # p = exp(b dt) - 1, a Galton-Watson process with offspring mean m = e^{b dt} and variance s2 = p(1-p).
    # Exact moments (Harris, The Theory of Branching Processes, 1963, ch. I.5):
    #   E N_k = N0 m^k = N0 e^{b t}   (t = k dt: the mean of the continuous-time Yule process),
    #   Var N_k = N0 s2 m^(k-1) (m^k - 1) / (m - 1).
    # Test: the mean over 24 seeds lies within 4 standard errors of N0 e^{bt} (z-score bound), and the
    # sample variance within a factor 2.5 of the exact one (chi-square with 23 d.o.f.: P(outside) ~ 2e-3).
    b, dt, T, n0, seeds = 1.0 / 300.0, 6.0, 900.0, 20, 24
    k = int(T / dt)
    counts = []
    for seed in range(seeds):
        pop = Population(_cluster(n0), PhenotypeParams(cycle=LiveCycle(b)), seed=seed)
        pop.run(T, dt, dt, mechanics=False)
        counts.append(pop.count)
    counts = np.array(counts, dtype=float)
    m = np.exp(b * dt)
    p = m - 1
    mean = n0 * np.exp(b * T)
    var = n0 * p * (1 - p) * m ** (k - 1) * (m**k - 1) / (m - 1)
    z = (counts.mean() - mean) / np.sqrt(var / seeds)
    assert abs(z) < 4, (counts, mean, z)
    assert 1 / 2.5 < counts.var(ddof=1) / var < 2.5


def test_live_model_growth_rate_fit():
    # One large population: the log-count slope fitted over the run is b within 3% (relative sd of the
    # slope of a Yule process started from 400 cells ~ 1/sqrt(N0) / (b T) ~ 2%; 3% is 1.5 sd of the endpoints'
    # noise of a single run, seed fixed).
    b, dt, T = 1.0 / 400.0, 6.0, 1200.0
    pop = Population(_cluster(400), PhenotypeParams(cycle=LiveCycle(b)), seed=5)
    counts = [pop.count]
    for _ in range(int(T / dt)):
        pop.run(dt, dt, dt, mechanics=False)
        counts.append(pop.count)
    t = np.arange(len(counts)) * dt
    slope = np.polyfit(t, np.log(counts), 1)[0]
    assert slope == pytest.approx(b, rel=0.03)


def test_division_keeps_ids_unique_and_conserves_volume():
    params = PhenotypeParams(cycle=LiveCycle(1 / 200.0), apoptosis_rate=1 / 2000.0, growth_rate=0.0)
    pop = Population(_cluster(30), params, seed=2)
    seen = set(pop.ids.tolist())
    for _ in range(60):
        before = dict(zip(pop.ids.tolist(), pop.volume.tolist(), strict=True))
        xb = dict(zip(pop.ids.tolist(), pop.positions.copy(), strict=True))
        ev = pop.run(6.0, 6.0, 6.0, mechanics=False)[0]
        idx = {int(i): n for n, i in enumerate(pop.ids)}
        for par, dau in zip(ev.parents.tolist(), ev.daughters.tolist(), strict=True):
            # growth_rate = 0: a live cell's volume is unchanged until it divides; the daughters share it
            vsum = pop.volume[idx[par]] + pop.volume[idx[dau]]
            assert vsum == pytest.approx(before[par], rel=1e-14)
            mid = 0.5 * (pop.positions[idx[par]] + pop.positions[idx[dau]])
            np.testing.assert_allclose(mid, xb[par], atol=1e-9)
        new = set(ev.daughters.tolist())
        assert not new & seen, "a daughter id was used before"
        seen |= new
        assert len(np.unique(pop.ids)) == pop.count
    assert len(seen) > 60  # divisions happened
    assert (pop.phase == APOPTOTIC).any() or len(seen) > pop.count  # and removals or deaths


def test_phased_deterministic_cycle_time_is_sum_of_durations():
    # Deterministic phases whose durations are whole multiples of dt: every cycle lasts exactly
    # sum(T_k) = 60 + 120 + 36 + 24 = 240 min (the phase clock carries the remainder over).
    cyc = PhasedCycle([60.0, 120.0, 36.0, 24.0], transitions="deterministic")
    pop = Population(_cluster(5), PhenotypeParams(cycle=cyc), seed=1)
    times = np.concatenate([e.cycle_times for e in pop.run(1000.0, 6.0, 6.0, mechanics=False)])
    assert len(times) >= 5 + 10 + 20
    np.testing.assert_allclose(times, 240.0, rtol=1e-12)
    assert cyc.expected_cycle_time(6.0) == 240.0


def test_phased_deterministic_non_multiple_durations():
    # Durations that are not multiples of dt: the phase clock carries the remainder over, so a phase ends at
    # the first step at which the total time reaches the running sum of durations; the founder's j-th
    # division is at 6 ceil(250 j / 6) min (sum T_k = 250), and the mean cycle time tends to 250 min.
    cyc = PhasedCycle([61.0, 119.5, 45.0, 24.5], transitions="deterministic")
    pop = Population(_cluster(1), PhenotypeParams(cycle=cyc), seed=1)
    events = pop.run(2600.0, 6.0, 6.0, mechanics=False)
    founder = np.concatenate([e.cycle_times[e.parents == 0] for e in events])
    j = np.arange(1, len(founder) + 1)
    assert len(founder) == 10
    np.testing.assert_allclose(np.cumsum(founder), 6.0 * np.ceil(250.0 * j / 6.0), rtol=1e-12)


def test_phased_exponential_mean_cycle_time():
    # Exponential phases observed at steps dt: phase k lasts a geometric number of steps with success
    # p_k = 1 - exp(-dt/T_k): mean dt/p_k, variance dt^2 (1 - p_k)/p_k^2 (Feller, vol. I, XI.2); a cycle is the
    # sum over phases. As dt -> 0 the mean -> sum T_k = 480 min (the discrete bias is ~ K dt/2 = 12 min).
    # Test: the first cycle of each of the 300 founders (all born at t = 0, so no censoring once the run
    # lasts > mean + 7 sd) has a mean within 4 standard errors of sum(dt/p_k).
    T = np.array([150.0, 200.0, 90.0, 40.0])
    dt, n0, t_run = 6.0, 300, 3000.0
    cyc = PhasedCycle(T, transitions="exponential")
    p = 1 - np.exp(-dt / T)
    mean = np.sum(dt / p)
    sd = np.sqrt(np.sum(dt**2 * (1 - p) / p**2))
    assert mean + 7 * sd < t_run
    pop = Population(_cluster(n0), PhenotypeParams(cycle=cyc), seed=11)
    first: dict[int, float] = {}
    for e in pop.run(t_run, dt, dt, mechanics=False):
        for par, ct in zip(e.parents.tolist(), e.cycle_times.tolist(), strict=True):
            if par < n0 and par not in first:
                first[par] = ct
    assert len(first) == n0
    times = np.array(list(first.values()))
    z = (times.mean() - mean) / (sd / np.sqrt(n0))
    assert abs(z) < 4, (times.mean(), mean, z)
    assert cyc.expected_cycle_time(dt) == pytest.approx(mean, rel=1e-12)


def test_necrosis_only_below_threshold():
    # Oxygen 10 mmHg for half the cells (above the threshold 5) and 1 mmHg (below necrosis_max 2.5, full rate)
    # for the other half: no cell above the threshold ever becomes necrotic; below it, the fraction still live
    # after k steps is exp(-r k dt) (binomial, within 4 sd).
    n, r, dt, k = 2000, 1 / 60.0, 6.0, 5
    params = PhenotypeParams(cycle=LiveCycle(0.0), necrosis_threshold=5.0, necrosis_max=2.5, necrosis_rate=r)
    pop = Population(_cluster(n), params, seed=4)
    oxygen = np.where(np.arange(n) % 2 == 0, 10.0, 1.0)
    for _ in range(k):
        pop.time += dt
        pop.phenotype_step(dt, oxygen=oxygen)
    high = oxygen > 5.0
    assert np.all(pop.phase[high] >= 0)
    frac = np.mean(pop.phase[~high] >= 0)
    q = np.exp(-r * k * dt)
    assert abs(frac - q) < 4 * np.sqrt(q * (1 - q) / (n // 2))
    assert np.all(pop.phase[~high & (pop.phase < 0)] == NECROTIC)
    # in the ramp: at c = 3.75 (half way from 5 to 2.5) the rate is r/2
    pop2 = Population(_cluster(n), params, seed=5)
    pop2.time += dt
    pop2.phenotype_step(dt, oxygen=np.full(n, 3.75))
    q2 = np.exp(-0.5 * r * dt)
    assert abs(np.mean(pop2.phase >= 0) - q2) < 4 * np.sqrt(q2 * (1 - q2) / n)


def test_apoptotic_cells_shrink_and_leave_after_duration():
    # Apoptosis at rate a; an apoptotic cell's volume relaxes to 0 at 1/60 per min (exactly exp(-t/60) of
    # its volume at death), and it is removed when its time since death reaches 516 min (PhysiCell: 8.6 h).
    params = PhenotypeParams(cycle=LiveCycle(0.0), apoptosis_rate=1 / 600.0, growth_rate=0.0)
    pop = Population(_cluster(500), params, seed=9)
    died_at: dict[int, float] = {}
    removed_at: dict[int, float] = {}
    for _ in range(200):
        e = pop.run(6.0, 6.0, 6.0, mechanics=False)[0]
        died_at.update({int(i): pop.time - 6.0 for i in e.apoptotic})  # death at the start of the step
        removed_at.update({int(i): pop.time for i in e.removed})
        for i in np.flatnonzero(pop.phase == APOPTOTIC)[:3]:
            t_dead = pop.time - died_at[int(pop.ids[i])]
            assert pop.volume[i] == pytest.approx(params.target_volume * np.exp(-t_dead / 60.0), rel=1e-12)
    assert removed_at
    for i, t in removed_at.items():
        assert t - died_at[i] == pytest.approx(516.0, abs=1e-9)


def test_order_of_storage_does_not_change_outcome():
    # Per-cell random streams keyed by (seed, id, step): permuting the storage order of the cells gives the
    # same cells with the same phases and volumes (phenotype only: no order-dependent float sums).
    params = PhenotypeParams(cycle=PhasedCycle([50.0, 80.0, 40.0, 20.0], transitions="exponential"),
                             apoptosis_rate=1 / 800.0)
    x = _cluster(200)
    perm = np.random.default_rng(1).permutation(200)
    a = Population(x, params, seed=3)
    b = Population(x[perm], params, seed=3, ids=np.arange(200)[perm])
    a.run(600.0, 6.0, 6.0, mechanics=False)
    b.run(600.0, 6.0, 6.0, mechanics=False)
    oa, ob = np.argsort(a.ids), np.argsort(b.ids)
    np.testing.assert_array_equal(a.ids[oa], b.ids[ob])
    np.testing.assert_array_equal(a.phase[oa], b.phase[ob])
    np.testing.assert_array_equal(a.volume[oa], b.volume[ob])
    np.testing.assert_array_equal(a.positions[oa], b.positions[ob])
