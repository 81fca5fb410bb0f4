"""Clean shutdown of ``tara local run`` and ``tara serve`` (``tara_cli.shutdown``), with real signals.

The unit tests drive the pieces in this process and in throwaway children: the signal catcher, the
bounded stop of a process group, the death signal a child gets when its parent is SIGKILLed, and the
resume line. The slow tests run ``tara local run`` on the tiny offline model (the session's trained
adapters and build, copied into a fresh state folder, so only the stage under test does work) and send
SIGINT or SIGTERM during a training, during the GGUF build and while serving. After each: the exit
status is 128 + the signal, stderr holds the one ``tara: interrupted`` line and no traceback, no
process the run started is left (its descendants, and anything whose command line names the test's
folder: llama-server, tara-router, a convert script), no temporary folder is left, ``state.json``
says Interrupted with the stage, and a rerun prints what it resumes and completes.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from procs import alive, descendants, naming

from tara_cli.local import resume_line
from tara_cli.serve import free_port
from tara_cli.shutdown import Interrupted, SignalCatcher, deferred, spawn, stop

TARA = [sys.executable, "-m", "tara_cli.main"]


# --- the pieces, in this process ---------------------------------------------------------------


def test_a_signal_becomes_interrupted_with_the_shells_exit_status() -> None:
    before = signal.getsignal(signal.SIGINT)
    with pytest.raises(Interrupted) as caught, SignalCatcher() as catcher:
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)
    assert (caught.value.name, caught.value.exit_code, catcher.signum) == ("SIGTERM", 143, signal.SIGTERM)
    assert signal.getsignal(signal.SIGINT) is before  # the previous handlers are back


def test_sigint_goes_to_the_trainers_sigterm_handler_and_a_second_one_raises() -> None:
    seen: list[int] = []
    with SignalCatcher() as catcher:
        before = signal.signal(signal.SIGTERM, lambda signum, _frame: seen.append(signum))  # a PreemptionGuard
        try:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.1)
            assert seen == [signal.SIGINT] and catcher.signum == signal.SIGINT
            with pytest.raises(Interrupted) as caught:
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(5)
            assert caught.value.exit_code == 130
        finally:
            signal.signal(signal.SIGTERM, before)


def test_a_deferred_block_finishes_before_the_signal_is_raised() -> None:
    finished = False
    with pytest.raises(Interrupted), SignalCatcher():
        with deferred():
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.1)
            finished = True
        pytest.fail("the signal was not raised after the block")
    assert finished


STUBBORN = """
import signal, subprocess, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
child = subprocess.Popen([sys.executable, "-c", "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)"])
print(child.pid, flush=True)
time.sleep(60)
"""


def test_stop_kills_a_group_that_ignores_sigterm_and_reaps_it() -> None:
    proc = spawn([sys.executable, "-c", STUBBORN], stdout=subprocess.PIPE, text=True)
    grandchild = int(proc.stdout.readline())
    assert os.getpgid(grandchild) == proc.pid  # its own group, which the grandchild shares
    started = time.monotonic()
    stop([proc], grace=0.5)
    proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL and time.monotonic() - started < 5
    deadline = time.monotonic() + 5
    while alive([grandchild]) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive([grandchild])


PARENT = """
import sys, time
from tara_cli.shutdown import spawn
child = spawn([sys.executable, "-c", "import time; time.sleep(60)"])
print(child.pid, flush=True)
time.sleep(60)
"""


@pytest.mark.skipif(sys.platform != "linux", reason="PR_SET_PDEATHSIG is Linux's")
def test_a_child_dies_with_its_parent_even_when_the_parent_is_sigkilled() -> None:
    parent = subprocess.Popen([sys.executable, "-c", PARENT], stdout=subprocess.PIPE, text=True)
    child = int(parent.stdout.readline())
    assert alive([child])
    parent.kill()
    parent.wait()
    parent.stdout.close()
    deadline = time.monotonic() + 5
    while alive([child]) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive([child])


AFTER_WORK = """
import sys, time
from tara_cli.shutdown import exit_on_signal
exit_on_signal(3)
print("done", flush=True)
time.sleep(60)  # stands for the interpreter's teardown
"""


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_after_the_work_ends_the_process_with_the_works_status(signum: int) -> None:
    proc = subprocess.Popen([sys.executable, "-c", AFTER_WORK], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout.readline() == "done\n"
    proc.send_signal(signum)
    _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 3 and stderr == ""


def _trainer_state(out: Path, status: str, checkpoint: int | None = None) -> None:
    out.mkdir(parents=True)
    (out / "state.json").write_text(json.dumps({"status": status, "checkpoint_step": checkpoint}))
    if checkpoint:
        (out / "checkpoints" / f"checkpoint-{checkpoint}").mkdir(parents=True)
    if status == "Succeeded":
        (out / "adapter").mkdir()
        (out / "adapter" / "manifest.json").write_text("{}")


@pytest.mark.parametrize(("previous", "trainings", "built", "expected"), [
    pytest.param(None, {"hc": ("Succeeded", 30)}, True, None, id="first-run"),
    pytest.param("Succeeded", {"hc": ("Succeeded", 30)}, True, None, id="after-a-finished-run"),
    pytest.param("Interrupted", {"hc": ("Succeeded", 30), "biz": ("Interrupted", 12)}, False,
                 "resuming: hc already complete; biz from checkpoint 12", id="interrupted-training"),
    pytest.param("Running", {"hc": ("Running", None), "biz": ("Pending", None)}, False, None, id="killed-before-a-checkpoint"),
    pytest.param("Interrupted", {"hc": ("Succeeded", 30)}, True,
                 "resuming: hc already complete; phase-1 build already complete", id="interrupted-serving"),
])
def test_resume_line_says_what_a_rerun_picks_up(tmp_path: Path, previous: str | None, trainings: dict[str, tuple[str, int | None]],
                                                built: bool, expected: str | None) -> None:
    for name, (status, checkpoint) in trainings.items():
        _trainer_state(tmp_path / "trainings" / name, status, checkpoint)
    build = tmp_path / "phases" / "phase-1" / "build"
    build.mkdir(parents=True)
    if built:
        (build / "manifest.json").write_text("{}")
    outputs = {name: tmp_path / "trainings" / name for name in trainings}
    line = resume_line(None if previous is None else {"status": previous}, outputs, {"phase-1": build})
    assert line == expected


# --- tara local run and tara serve, with real signals ----------------------------------------


def _write_manifest(path: Path, resource: Any, **training: Any) -> None:
    body = resource.to_wire()
    body["spec"]["training"].update(training)
    path.write_text(yaml.safe_dump(body), encoding="utf-8")


@pytest.fixture
def workspace(tmp_path: Path, tiny_model_dir: Path, trainings_dir: Path, tiny_phase_build: Path, training: Callable[..., Any],
              phase_manifest: Callable[..., Path], domains: tuple[str, ...]) -> dict[str, Path]:
    """Manifests of the session's two trainings and build (the same specs, so the run reuses them),
    and a state folder holding copies of their outputs; the caller removes what its stage must redo."""
    manifests, state = tmp_path / "manifests", tmp_path / "state"
    manifests.mkdir()
    for domain in domains:
        _write_manifest(manifests / f"{domain}.yaml", training(domain, tiny_model_dir))
    phase_manifest(manifests / "phase-1.yaml", quantization=["Q8_0"])
    shutil.copytree(trainings_dir, state / "trainings", symlinks=True)
    shutil.copytree(tiny_phase_build, state / "phases" / "phase-1" / "build", symlinks=True)
    (tmp_path / "tmp").mkdir()
    return {"root": tmp_path, "manifests": manifests, "state": state, "tiny": tiny_model_dir, "tmp": tmp_path / "tmp"}


def _env(ws: dict[str, Path]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TARA_") or k in ("TARA_CACHE_DIR",)}
    return {**env, "TMPDIR": str(ws["tmp"]), "PYTHONUNBUFFERED": "1", "TARA_STATE_INTERVAL": "0.2", "TARA_THREADS": "2"}


def _local_run(ws: dict[str, Path], *extra: str) -> list[str]:
    return [*TARA, "local", "run", str(ws["manifests"]), "--state", str(ws["state"]), "--tiny-model", str(ws["tiny"]), *extra]


def _fill(fd: int) -> None:
    """Write into a pipe until it is full, so that the next write to it blocks. Through a file description
    of its own: O_NONBLOCK on ``fd`` would be the child's too (it shares the description)."""
    own = os.open(f"/proc/self/fd/{fd}", os.O_WRONLY | os.O_NONBLOCK)
    try:
        with contextlib.suppress(BlockingIOError):
            while True:
                os.write(own, b"\n")
    finally:
        os.close(own)


def _blocked_writing(pid: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while "pipe_write" not in Path(f"/proc/{pid}/wchan").read_text():
        assert time.monotonic() < deadline, "the run never blocked writing its output"
        time.sleep(0.02)


def _interrupt(ws: dict[str, Path], argv: list[str], ready: Callable[[str, int], bool], signum: int, *,
               hold_output: bool = False, timeout: float = 240) -> tuple[subprocess.CompletedProcess[str], dict[int, str]]:
    """Run ``argv``; once ``ready(stdout so far, pid)`` holds, note its descendants and send ``signum``.

    stdout comes through a pipe read as it goes (stderr goes to a file). ``hold_output``: once ready,
    fill the pipe and wait until the run blocks writing its next line, then signal it; for a point
    that passes too fast to hit (the tiny model answers every sample question in well under a second,
    so "serving" is held at its first line, once llama-server and the router both answer)."""
    err_path = ws["root"] / "stderr.txt"
    read_fd, write_fd = os.pipe()
    with err_path.open("w") as err:
        proc = subprocess.Popen(argv, stdout=write_fd, stderr=err, env=_env(ws), start_new_session=True)
    out = bytearray()

    def read(wait: float) -> bool:
        if select.select([read_fd], [], [], wait)[0]:
            chunk = os.read(read_fd, 1 << 16)
            out.extend(chunk)
            return bool(chunk)
        return False

    try:
        deadline = time.monotonic() + timeout
        while not ready(out.decode(errors="replace"), proc.pid):
            assert proc.poll() is None, f"exited early ({proc.returncode}):\n{out.decode()[-3000:]}{err_path.read_text()[-3000:]}"
            assert time.monotonic() < deadline, out.decode()[-3000:]
            read(0.05)
        if hold_output:
            _fill(write_fd)
            _blocked_writing(proc.pid)
        else:
            time.sleep(0.3)  # the step under way has started its children
        below = descendants(proc.pid)
        proc.send_signal(signum)
        os.close(write_fd)
        deadline = time.monotonic() + 90
        while proc.poll() is None and time.monotonic() < deadline:
            read(0.05)
        proc.wait(timeout=1)
        while read(0):
            pass
    finally:
        if proc.poll() is None:  # the group (start_new_session): the run and whatever it started
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        os.close(read_fd)
        with contextlib.suppress(OSError):
            os.close(write_fd)
    return subprocess.CompletedProcess(argv, proc.returncode, out.decode(errors="replace"), err_path.read_text()), below


def _router_started(_out: str, pid: int) -> bool:
    """The run has started the router: llama-server answers, and the run's next line says it is serving."""
    return any("tara_router.main" in c for c in descendants(pid).values())


def _assert_clean_exit(ws: dict[str, Path], result: subprocess.CompletedProcess[str], below: dict[int, str], signum: int,
                       stage: str) -> dict[str, Any]:
    name = signal.Signals(signum).name
    assert result.returncode == 128 + signum, result.stdout[-3000:] + result.stderr[-3000:]
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    lines = [line for line in result.stderr.splitlines() if line.startswith("tara: interrupted")]
    assert len(lines) == 1 and lines[0].startswith(f"tara: interrupted ({name}) during {stage}"), result.stderr[-3000:]
    assert lines[0].endswith("; state saved, rerun to resume")
    assert not alive(list(below)), {p: below[p] for p in alive(list(below))}
    assert not naming(str(ws["root"])), naming(str(ws["root"]))
    assert not [p.name for p in ws["tmp"].iterdir() if p.name.startswith("tara-")]
    assert not list(ws["state"].glob("phases/*/*.partial"))
    state = json.loads((ws["state"] / "state.json").read_text())
    assert state["status"] == "Interrupted" and state["signal"] == name and state["stage"] == stage, state
    return state


SIGNALS = [pytest.param(signal.SIGINT, id="SIGINT"), pytest.param(signal.SIGTERM, id="SIGTERM")]


@pytest.mark.slow
@pytest.mark.timeout(420)
@pytest.mark.parametrize("signum", SIGNALS)
def test_local_run_interrupted_while_serving(workspace: dict[str, Path], signum: int) -> None:
    ws = workspace
    result, below = _interrupt(ws, _local_run(ws), _router_started, signum, hold_output=True)
    assert "Q: " not in result.stdout  # held at "serving at", before the first question
    assert any("llama-server" in c for c in below.values()) and any("tara_router.main" in c for c in below.values()), below
    _assert_clean_exit(ws, result, below, signum, "serve phase-1")

    rerun = subprocess.run(_local_run(ws), capture_output=True, text=True, env=_env(ws), timeout=300, check=False)
    assert rerun.returncode == 0, rerun.stdout[-3000:] + rerun.stderr[-3000:]
    resuming = rerun.stdout.splitlines()[0]
    assert resuming.startswith("resuming: ") and "phase-1 build already complete" in resuming, rerun.stdout[:2000]
    assert "healthcare already complete" in resuming and "business already complete" in resuming
    assert "Done in" in rerun.stdout and json.loads((ws["state"] / "state.json").read_text())["status"] == "Succeeded"


@pytest.mark.slow
@pytest.mark.timeout(420)
@pytest.mark.parametrize("signum", SIGNALS)
def test_local_run_interrupted_during_the_build(workspace: dict[str, Path], signum: int) -> None:
    ws = workspace
    shutil.rmtree(ws["state"] / "phases")
    result, below = _interrupt(ws, _local_run(ws, "--no-serve"), lambda out, _pid: "convert base model" in out, signum)
    state = _assert_clean_exit(ws, result, below, signum, "build phase-1")
    assert "convert base model" in state["buildStep"], state

    rerun = subprocess.run(_local_run(ws, "--no-serve"), capture_output=True, text=True, env=_env(ws), timeout=300, check=False)
    assert rerun.returncode == 0, rerun.stdout[-3000:] + rerun.stderr[-3000:]
    resuming = rerun.stdout.splitlines()[0]
    assert resuming.startswith("resuming: ") and "build" not in resuming, rerun.stdout[:2000]
    assert "healthcare already complete" in resuming and "business already complete" in resuming
    assert "built; serving" in rerun.stdout and (ws["state"] / "phases" / "phase-1" / "build" / "manifest.json").is_file()


@pytest.mark.slow
@pytest.mark.timeout(420)
@pytest.mark.parametrize("signum", SIGNALS)
def test_local_run_interrupted_during_a_training_saves_a_checkpoint(workspace: dict[str, Path], training: Callable[..., Any],
                                                                     signum: int) -> None:
    """A third training outside the phase (the build stays reused): interrupted after its first checkpoint,
    it saves another at the end of the step it is in; the rerun resumes from that one."""
    from tara_trainer.checkpoints import MARKER

    ws = workspace
    _write_manifest(ws["manifests"] / "education.yaml", training("education", ws["tiny"], steps=20), saveSteps=2)
    first = ws["state"] / "trainings" / "education" / "checkpoints" / "checkpoint-2" / MARKER
    result, below = _interrupt(ws, _local_run(ws, "--no-serve"), lambda _out, _pid: first.is_file(), signum)
    state = _assert_clean_exit(ws, result, below, signum, "train education")
    saved = state["checkpointStep"]
    assert saved >= 2 and saved == state["step"] < 20, state  # saved on the signal, at the step reached
    trainer = json.loads((ws["state"] / "trainings" / "education" / "state.json").read_text())
    assert trainer["status"] == "Interrupted" and trainer["checkpoint_step"] == saved, trainer

    rerun = subprocess.run(_local_run(ws, "--no-serve"), capture_output=True, text=True, env=_env(ws), timeout=300, check=False)
    assert rerun.returncode == 0, rerun.stdout[-3000:] + rerun.stderr[-3000:]
    assert f"education from checkpoint {saved}" in rerun.stdout.splitlines()[0], rerun.stdout[:2000]
    assert f"trained (resumed from checkpoint-{saved})" in rerun.stdout and "phase-1 build already complete" in rerun.stdout


@pytest.mark.slow
@pytest.mark.timeout(300)
@pytest.mark.parametrize("signum", SIGNALS)
def test_tara_serve_stops_both_children_and_exits_zero(workspace: dict[str, Path], signum: int) -> None:
    ws = workspace
    argv = [*TARA, "serve", "--phase-dir", str(ws["state"] / "phases" / "phase-1" / "build"), "--port", str(free_port()),
            "--ctx-size", "512"]
    result, below = _interrupt(ws, argv, lambda out, _pid: "TARA is serving" in out, signum)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stderr.strip().splitlines()[-1] == f"tara serve: stopped ({signal.Signals(signum).name}); llama-server and the router stopped"
    assert "Traceback" not in result.stderr
    assert len(below) >= 2 and not alive(list(below)) and not naming(str(ws["root"]))
    assert not [p.name for p in ws["tmp"].iterdir() if p.name.startswith("tara-")]
