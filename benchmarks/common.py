"""Shared by the benchmark scripts: every result file records hardware and time the same way."""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path
from typing import Any


def write_result(path: str | Path, body: dict[str, Any]) -> None:
    """Write ``body`` with hardware and a timestamp as JSON, and say where."""
    out = {**body, "hardware": {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(), **body.get("hardware", {})},
           "createdAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    Path(path).write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    print(f"written to {path}")
