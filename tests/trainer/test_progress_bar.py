"""The trainer shows a progress bar when its stderr is a terminal, unless TARA_PROGRESS_BAR says
otherwise (the choice ``train`` hands to Hugging Face's Trainer as ``disable_tqdm``; that it reaches
the Trainer is tests/trainer/test_spec_wiring.py's)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import IO

import pytest

from tara_trainer.settings import TrainerSettings


@pytest.fixture
def terminal() -> Iterator[IO[str]]:
    """The writing end of a real pseudo-terminal."""
    leader, follower = os.openpty()
    with os.fdopen(follower, "w") as stream:
        yield stream
    os.close(leader)


@pytest.mark.parametrize(("env", "on_terminal", "on_pipe"), [
    pytest.param({}, True, False, id="default-follows-the-terminal"),
    pytest.param({"TARA_PROGRESS_BAR": "false"}, False, False, id="off"),
    pytest.param({"TARA_PROGRESS_BAR": "true"}, True, True, id="on"),
])
def test_a_progress_bar_shows_when_stderr_is_a_terminal(env: dict[str, str], on_terminal: bool, on_pipe: bool,
                                                        terminal: IO[str], tmp_path) -> None:
    settings = TrainerSettings.from_env(env)
    with open(tmp_path / "log", "w") as file:
        assert (settings.shows_progress_bar(terminal), settings.shows_progress_bar(file)) == (on_terminal, on_pipe)
