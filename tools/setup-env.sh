#!/usr/bin/env bash
# Idempotent set-up of everything msmcore needs on a Debian machine:
#   1. system packages (OpenMPI, OpenBLAS/LAPACK, pkg-config) when missing;
#   2. a virtual environment in .venv;
#   3. the pinned numerical stack (PETSc built from source, once);
#   4. msmcore and every plugin under plugins/ in editable mode.
# Each step is skipped when its inputs have not changed since it last ran,
# so a second run finishes in seconds.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${MSM_VENV:-$ROOT/.venv}"
PYTHON="${PYTHON:-python3}"
APT_PACKAGES=(openmpi-bin libopenmpi-dev libopenblas-dev liblapack-dev pkg-config)

log() { printf '[setup] %s\n' "$*" >&2; }
apt_install() {
    log "installing system packages: $*"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >/dev/null
}

# -- 1. system packages ---------------------------------------------------
missing=()
for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
    apt_install "${missing[@]}"
fi

if ! "$PYTHON" -c "import ensurepip, venv" 2>/dev/null; then  # Debian's python3 lacks venv
    apt_install python3-venv
fi

# -- 2. virtual environment -------------------------------------------------
if [ ! -x "$VENV/bin/python" ]; then
    log "creating $VENV"
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install -q --upgrade pip setuptools wheel
fi
PIP=("$VENV/bin/python" -m pip install -q --disable-pip-version-check)

stamp_ok() {  # stamp_ok NAME HASH: true when step NAME last ran with HASH
    [ -f "$VENV/.msm-$1" ] && [ "$(cat "$VENV/.msm-$1")" = "$2" ]
}
stamp_set() { printf '%s' "$2" > "$VENV/.msm-$1"; }

# -- 3. the numerical stack -------------------------------------------------
stack_hash=$(cat "$ROOT/tools/requirements-stack.txt" "$ROOT/tools/requirements-test.txt" | sha256sum | cut -c1-16)
if ! stamp_ok stack "$stack_hash"; then
    log "installing the numerical stack (the first PETSc build takes about 9 minutes)"
    # Without --with-cuda=0 PETSc's configure picks up any nvcc on the machine.
    export PETSC_CONFIGURE_OPTIONS="${PETSC_CONFIGURE_OPTIONS:---with-cuda=0 --with-fc=0 --with-x=0}"
    # mpi4py is compiled against the system OpenMPI, the same MPI PETSc uses.
    "${PIP[@]}" numpy cython
    "${PIP[@]}" --no-binary mpi4py -r "$ROOT/tools/requirements-stack.txt"
    "${PIP[@]}" -r "$ROOT/tools/requirements-test.txt"
    stamp_set stack "$stack_hash"
fi

# -- 4. msmcore and its plugins, editable ----------------------------------
projects=("$ROOT")
for d in "$ROOT"/plugins/*/; do
    case "$(basename "$d")" in _*) continue ;; esac   # _template is a scaffold
    [ -f "$d/pyproject.toml" ] && projects+=("${d%/}")
done
proj_hash=$(for p in "${projects[@]}"; do echo "$p"; cat "$p/pyproject.toml"; done | sha256sum | cut -c1-16)
if ! stamp_ok projects "$proj_hash"; then
    log "installing msmcore and ${#projects[@]} package(s) in editable mode"
    args=()
    for p in "${projects[@]}"; do args+=(-e "$p"); done
    "${PIP[@]}" --no-build-isolation "${args[@]}"
    stamp_set projects "$proj_hash"
fi
log "ready: $VENV"
