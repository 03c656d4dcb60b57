"""The ``msm`` command line: ``msm run``, ``msm plugins``, ``msm new-plugin``, ``msm --version``.

User errors print one line, ``msm: error: ...``, and exit with status 1
(usage errors: 2); ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import warnings
from collections.abc import Sequence
from typing import Any

import msmcore
from msmcore.errors import MSMError
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

    p = sub.add_parser("run", help="run a coupling described in a YAML file")
    p.add_argument("file", help="the YAML configuration")
    p.add_argument("--out", help="write the results here (NetCDF/HDF5); overrides run.out")
    p.add_argument("--quiet", action="store_true", help="no progress bar and no summary")
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


def _cmd_run(args: argparse.Namespace) -> int:
    from msmcore.config import load_config

    config = load_config(args.file)
    result = config.run(**({"quiet": True} if args.quiet else {}))
    out = args.out or config.out
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


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``msm`` command; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.WARNING,
        format="msm: %(levelname)s: %(name)s: %(message)s",
    )
    if args.command is None:
        parser.print_help()
        return 2

    def show_warning(message: Any, category: type[Warning], *rest: Any, **kw: Any) -> None:
        print(f"msm: warning: {message}", file=sys.stderr)

    with warnings.catch_warnings():
        if not args.debug:
            warnings.simplefilter("always", PluginWarning)
            warnings.showwarning = show_warning
        try:
            return int(args.func(args))
        except (MSMError, OSError) as exc:
            if args.debug:
                raise
            print(f"msm: error: {exc}", file=sys.stderr)
            return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
