"""msmcore.threads: the per-rank cap on BLAS/OpenMP thread pools, and who decides it."""

from __future__ import annotations

import pytest
from mpi4py import MPI

from msmcore import ConfigurationError, threads
from msmcore.threads import SETTING_ENV, THREAD_ENV, limit_threads, threads_per_rank


@pytest.mark.parametrize(("own", "node", "local", "expected"), [
    (1, 2, 2, 1),     # Open MPI bound each of 2 ranks to its own core
    (2, 2, 2, 1),     # 2 unbound ranks on 2 cores
    (2, 2, 3, 1),     # 3 unbound ranks on 2 cores (oversubscribed): still one each
    (16, 16, 4, 4),   # 4 unbound ranks on 16 cores
    (8, 16, 2, 8),    # bound to a socket of 8 cores each
    (4, 16, 2, 4),    # the mask is the tighter limit
])
def test_threads_per_rank_shares_the_node(own, node, local, expected):
    assert threads_per_rank(own, node, local) == expected


@pytest.fixture
def clean_env(monkeypatch):
    for name in (*THREAD_ENV, SETTING_ENV):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(threads, "_OURS", {})
    return monkeypatch


def test_the_users_environment_wins(clean_env):
    assert threads._requested() is None
    clean_env.setenv("OPENBLAS_CORETYPE", "Haswell")  # not a thread count: ignored
    assert threads._requested() is None
    clean_env.setenv("OMP_NUM_THREADS", "3")
    assert threads._requested() == "user"
    clean_env.setenv(SETTING_ENV, "2")  # msmcore's own switch comes first
    assert threads._requested() == 2
    clean_env.setenv(SETTING_ENV, "off")
    assert threads._requested() == "off"


def test_a_value_msmcore_set_itself_is_not_the_users(clean_env):
    clean_env.setenv("OMP_NUM_THREADS", "1")
    clean_env.setattr(threads, "_OURS", {"OMP_NUM_THREADS": "1"})
    assert threads._requested() is None


@pytest.mark.parametrize("bad", ["-1", "two", "1.5"])
def test_a_bad_setting_is_refused_by_name(clean_env, bad):
    clean_env.setenv(SETTING_ENV, bad)
    with pytest.raises(ConfigurationError, match=SETTING_ENV):
        threads._requested()


def test_a_serial_run_keeps_the_libraries_defaults(clean_env):
    assert limit_threads(None) is None
    assert limit_threads(MPI.COMM_SELF) is None
