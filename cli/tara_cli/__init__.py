"""The ``tara`` command line: the user-facing entry to validation, CRDs, docs and (later) local runs."""
