"""The ``msm`` command line: ``msm run``, ``msm show``, ``msm plugins``, ``msm new-plugin``, ``msm --version``.

Every failure prints one line on stderr and exits with status 1 (usage
errors: 2; Ctrl-C: 130): ``msm: error: ...`` for a user error
(:class:`~msmcore.errors.MSMError`, or a file that cannot be read or
written), ``msm: internal error: ...`` for anything else (a bug: the line
names the exception and suggests ``--debug``). ``--debug`` shows the
traceback instead. Under MPI the line is printed by rank 0 only, informational
logging comes from rank 0 only, and warnings from other ranks carry
``[rank N]`` (:mod:`msmcore.logs`).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import msmcore
from msmcore.errors import ConfigurationError, MSMError
from msmcore.logs import RankFilter, process_rank
from msmcore.plugins import PluginWarning, get_registry
from msmcore.scaffold import new_plugin

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="msm", description="msmcore: couple physics solver plugins through PETSc."
    )
    parser.add_argument("--version", action="version", version=f"msmcore {msmcore.__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logging")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("plugins", help="list installed components and their plugins")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=_cmd_plugins)

    p = sub.add_parser("show", help="describe a component: settings and ports")
    p.add_argument("key", help="component key (e.g. fluid.diffusion), or file.py:Class")
    p.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", dest="settings",
                   help="a setting to build the component with (value in YAML: 10, [10, 10], explicit); "
                        "repeat for more")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=_cmd_show)

    p = sub.add_parser("run", help="run a coupling described in a YAML file")
    p.add_argument("file", help="the YAML configuration")
    p.add_argument("--out", help="write the results here (NetCDF/HDF5); overrides run.out")
    p.add_argument("--quiet", action="store_true", help="no progress bar and no summary")
    p.add_argument("--resume", metavar="PATH",
                   help="continue from a snapshot file, or the newest intact snapshot of a checkpoint folder")
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser("new-plugin", help="create a plugin package from the template")
    p.add_argument("name", help="component family, e.g. 'optics' (gives msm-optics)")
    p.add_argument("--dir", default=".", help="parent folder (default: current folder)")
    p.add_argument("--force", action="store_true", help="overwrite an existing folder")
    p.set_defaults(func=_cmd_new_plugin)
    return parser


def _cmd_plugins(args: argparse.Namespace) -> int:
    registry = get_registry()
    components = registry.components()
    plugins = registry.plugins()
    if args.json:
        data: dict[str, Any] = {
            "components": [
                {
                    "key": c.key,
                    "plugin": c.source.name,
                    "distribution": c.distribution,
                    "version": c.version,
                    "description": c.description,
                }
                for c in components
            ],
            "plugins": [
                {"name": p.name, "distribution": p.distribution, "version": p.version,
                 "status": p.status, "error": p.error, "info": p.info}
                for p in plugins
            ],
        }
        print(json.dumps(data, indent=2))
        return 0
    if not components:
        print("No components installed. Install a plugin, e.g. `pip install -e plugins/msm-fluid`.")
    else:
        rows = [("KEY", "DISTRIBUTION", "VERSION", "DESCRIPTION")]
        rows += [(c.key, c.distribution or "(script)", c.version or "", c.description) for c in components]
        widths = [max(len(r[i]) for r in rows) for i in range(3)]
        for r in rows:
            print(f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:<{widths[2]}}  {r[3]}".rstrip())
    for p in plugins:
        if p.status != "loaded":
            print(f"({p.label}: {p.status}{': ' + p.error if p.error else ''})")
    return 0


def _cmd_show(args: argparse.Namespace) -> int:
    from msmcore.show import component_factory, describe_component, parse_settings

    texts: dict[str, str] = {}
    for item in args.settings:
        name, sep, text = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise ConfigurationError(f"--set {item!r}: write NAME=VALUE, e.g. --set shape=[10,10]")
        texts[name] = text
    settings = parse_settings(component_factory(args.key)[0], texts)
    description = describe_component(args.key, settings)
    print(description.to_json() if args.json else description.to_text())
    return 0


def check_writable(path: str | Path) -> Path:
    """Refuse, before a run, a results path that cannot be written.

    The folder must exist and take a new file (a temporary file is created
    there and removed again); an existing ``path`` must be a writable file.

    Raises
    ------
    ConfigurationError
        Naming the path, why, and what to do.
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise ConfigurationError(f"cannot write results to {path}: it is a folder; give a file name, "
                                 f"e.g. --out {path / 'results.nc'}")
    if not folder.is_dir():
        raise ConfigurationError(f"cannot write results to {path}: the folder {folder} does not exist; "
                                 "create it or choose another --out")
    if path.exists() and not os.access(path, os.W_OK):
        raise ConfigurationError(f"cannot write results to {path}: the file is not writable; choose another --out")
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".msm-write-test-"):
            pass
    except OSError as exc:
        raise ConfigurationError(f"cannot write results to {path}: {exc.strerror or exc} in {folder}; "
                                 "choose another --out") from None
    return path


def _cmd_run(args: argparse.Namespace) -> int:
    from msmcore.config import load_config

    config = load_config(args.file)
    out = args.out or config.out
    if out:
        check_writable(out)  # before step 1, not after the run
    overrides: dict[str, object] = {"quiet": True} if args.quiet else {}
    if args.resume:
        overrides["resume"] = args.resume
    result = config.run(**overrides)
    if out:
        result.to_netcdf(out)  # rank 0 writes under MPI
    if not args.quiet and result.rank == 0:
        print(result.summary())
        if out:
            print(f"results written to {out}")
    return 0


def _cmd_new_plugin(args: argparse.Namespace) -> int:
    target = new_plugin(args.name, args.dir, force=args.force)
    print(f"Created {target}")
    print(f"Install it with:  pip install -e {target}")
    print("Then `msm plugins` lists its components.")
    return 0


@contextmanager
def _logging(debug: bool, rank: int) -> Iterator[None]:
    """A handler on the root logger for this command only: rank-filtered, ``msm: LEVEL: ...``."""
    root = logging.getLogger()
    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(logging.DEBUG if debug else logging.WARNING)
    handler.addFilter(RankFilter(rank, everything=debug))
    handler.setFormatter(logging.Formatter("msm: %(rankprefix)s%(levelname)s: %(name)s: %(message)s"))
    level = root.level
    root.addHandler(handler)
    if debug:
        root.setLevel(logging.DEBUG)
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``msm`` command; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    rank = process_rank()
    prefix = f"[rank {rank}] " if rank else ""

    def say(line: str) -> None:
        if rank == 0:
            print(line, file=sys.stderr)

    def show_warning(message: Any, category: type[Warning], *rest: Any, **kw: Any) -> None:
        print(f"msm: {prefix}warning: {message}", file=sys.stderr)

    with warnings.catch_warnings(), _logging(args.debug, rank):
        if not args.debug:
            warnings.simplefilter("always", PluginWarning)
            warnings.showwarning = show_warning
        try:
            return int(args.func(args))
        except KeyboardInterrupt:
            if args.debug:
                raise
            say(f"msm: interrupted (Ctrl-C) during `msm {args.command}`; nothing more was written")
            return 130
        except (MSMError, OSError) as exc:
            if args.debug:
                raise
            say(f"msm: error: {_one_line(exc)}")
            return 1
        except Exception as exc:  # noqa: BLE001 - the command line never shows a raw traceback
            if args.debug:
                raise
            say(f"msm: internal error: {type(exc).__name__}: {_one_line(exc)} — this is a bug in msmcore or "
                "a plugin; run again with `msm --debug ...` for the traceback and report it")
            return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
