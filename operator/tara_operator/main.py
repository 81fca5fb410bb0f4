"""``tara-operator``: run the kopf operator with TARA's handlers.

    tara-operator            # watch TARA_NAMESPACES (or every namespace), settings from TARA_* variables

Leader election uses kopf peering when ``TARA_PEERING`` names a KopfPeering (a ClusterKopfPeering
when watching every namespace): replicas take distinct priorities from their pod names, the
highest one works and the others wait; when it stops, the next takes over. Without it the
operator runs standalone. kopf's liveness endpoint
is served on ``TARA_LIVENESS_PORT`` at ``/healthz``.
"""

from __future__ import annotations

import argparse
import gc
import logging
import sys

import kopf

from tara_operator.settings import OperatorSettings, SettingsError

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tara-operator", description=__doc__.split("\n\n")[0].replace("``", ""))
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s", stream=sys.stderr)
    if not args.verbose:  # kopf logs every handler run at INFO: one line per event, too many at scale
        logging.getLogger("kopf.objects").setLevel(logging.WARNING)
    try:
        settings = OperatorSettings.from_env()
    except SettingsError as exc:  # before kopf starts: one clear line, exit 2
        print(f"tara-operator: {exc}", file=sys.stderr)
        return 2
    import tara_operator.handlers  # noqa: F401 - registers the handlers

    _settle_garbage_collector()

    liveness = f"http://0.0.0.0:{settings.liveness_port}/healthz" if settings.liveness_port else None
    kopf.run(
        standalone=settings.peering is None,
        peering_name=settings.peering,
        priority=settings.effective_priority if settings.peering else None,
        clusterwide=not settings.namespaces,
        namespaces=settings.namespaces,
        liveness_endpoint=liveness,
    )
    return 0


def _settle_garbage_collector() -> None:
    """Keep the cyclic garbage collector off the objects the imports made and off every short burst.

    The imports (kopf, the kubernetes client's models, pydantic, our API types) leave about a million
    objects that live as long as the process; each full collection walked all of them, about 0.2 s
    with every thread waiting on the GIL (benchmarks/bench_operator.py, 100 trainings: 1.4 s in the
    collector, 1.0 s of it in five full collections; 0.4 s with this). Frozen, they are never scanned
    again, and a larger first generation collects the many short-lived dicts of each watch event
    less often."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(_GC_GEN0_THRESHOLD, 20, 10)


_GC_GEN0_THRESHOLD = 20_000  # allocations between youngest collections (CPython's default: 700)


if __name__ == "__main__":
    sys.exit(main())
