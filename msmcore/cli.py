"""The ``msm`` command line: ``msm run``, ``msm profile``, ``msm show``, ``msm plugins``, ``msm new-plugin``.

Also ``msm --version``.

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
import sys
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
from msmcore.stream import check_writable

__all__ = ["check_writable", "main"]


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

    _add_profile_command(sub)

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
    models = registry.surrogate_models()
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
            "surrogates": [
                {"key": key, "plugin": source.name, "distribution": source.distribution, "version": source.version}
                for key, source in models
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
    if models:
        model_rows = [("SURROGATE MODEL", "DISTRIBUTION", "VERSION")]
        model_rows += [(key, source.distribution or f"({source.name})", source.version or "")
                       for key, source in models]
        widths = [max(len(r[i]) for r in model_rows) for i in range(2)]
        print()
        for m in model_rows:
            print(f"{m[0]:<{widths[0]}}  {m[1]:<{widths[1]}}  {m[2]}".rstrip())
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


def _cmd_run(args: argparse.Namespace) -> int:
    from msmcore.config import load_config

    config = load_config(args.file)
    out = args.out or config.out
    options: dict[str, Any] = {"quiet": True} if args.quiet else {}
    if out:
        check_writable(out)  # before step 1, not after the run
        options["out"] = out  # written as the samples come (rank 0 under MPI)
    if args.resume:
        options["resume"] = args.resume
    try:
        result = config.run(**options)
    except KeyboardInterrupt:
        if out and Path(out).exists():
            raise KeyboardInterrupt(f"the results sampled until then are in {out} ({_samples(out)})") from None
        raise
    if not args.quiet and result.rank == 0:
        print(result.summary())
        if out:
            print(f"results written to {out}")
    return 0


def _add_profile_command(sub: Any) -> None:
    p = sub.add_parser("profile", help="where a run's time went: per-component totals and a timeline",
                       description="Per-component totals of a run written by `msm run --out` or "
                                   "Result.to_netcdf: compute, exchange, wait, checkpoint and the framework "
                                   "overhead, in seconds and percent of the wall time.")
    p.add_argument("file", help="a results file (NetCDF) written with its profile")
    p.add_argument("--by-rank", action="store_true", help="one row per component and rank (under MPI)")
    p.add_argument("--timeline", metavar="FILE.png",
                   help="also draw the events per component and rank over wall time (needs matplotlib)")
    p.set_defaults(func=_cmd_profile)


def _cmd_profile(args: argparse.Namespace) -> int:
    from msmcore.results import Result

    path = Path(args.file)
    timeline = Path(args.timeline) if args.timeline else None
    if timeline is not None:
        if timeline.suffix.lower() not in (".png", ".svg", ".pdf"):
            raise ConfigurationError(f"--timeline {timeline}: give a .png, .svg or .pdf file name")
        check_writable(timeline)
    if not path.is_file():
        raise ConfigurationError(f"no results file {path}; give the --out file of `msm run`")
    try:
        result = Result.from_netcdf(path)
    except (OSError, KeyError, ValueError, AttributeError) as exc:
        raise ConfigurationError(f"{path} is not a results file written by msmcore "
                                 f"({type(exc).__name__}: {_one_line(exc)})") from None
    profile = result.profile_data
    if profile is None:
        raise ConfigurationError(f"{path} holds no profile (written by an msmcore without profiling); "
                                 "run the coupling again")
    ranks = f"{profile.ranks} rank" + ("s" if profile.ranks > 1 else "")
    print(f"profile of {path}: {result.scheme or 'unknown scheme'}, {ranks}")
    print(profile.report(by_rank=args.by_rank))
    if timeline is not None:
        profile.timeline(timeline, title=f"{path.name}: {result.scheme}" if result.scheme else None)
        print(f"timeline written to {timeline}")
    return 0


def _samples(path: str | Path) -> str:
    from msmcore.stream import samples_in

    try:
        n, last = samples_in(path)
    except (OSError, KeyError, ValueError):
        return "unreadable"
    return f"{n} sample(s), the last at t={last:.6g}" if last is not None else "no samples"


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
        except KeyboardInterrupt as exc:
            if args.debug:
                raise
            say(f"msm: interrupted (Ctrl-C) during `msm {args.command}`; {exc or 'nothing more was written'}")
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
