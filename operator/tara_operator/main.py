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


if __name__ == "__main__":
    sys.exit(main())
