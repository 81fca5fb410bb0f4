"""Measurements a test wants in the CI log: lines added to the end of pytest's terminal summary,
after the short summary that ``-ra`` prints, so they show without ``-s`` or ``-rP``. Imported by
name (a hook in a conftest would apply to every test under it)."""

from __future__ import annotations

import pytest

__all__ = ["report"]

_PLUGIN = "tara-run-report"


class _Lines:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        terminalreporter.section("measured by tests")
        for line in self.lines:
            terminalreporter.write_line(line)


def report(config: pytest.Config, line: str) -> None:
    """Print ``line`` in the terminal summary at the end of the run (and on stdout now, for ``-s``)."""
    plugin = config.pluginmanager.get_plugin(_PLUGIN)
    if plugin is None:
        plugin = _Lines()
        config.pluginmanager.register(plugin, _PLUGIN)
    plugin.lines.append(line)
    print(line)
