"""The command line under hostile conditions: special files, unwritable or full
destinations, partial writes, closed pipes, Ctrl-C, and the option checks of front,
resume and run.  Each case is one ``error:`` line with status 2 (or the documented
status), nothing written, no traceback."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cli_contract import DESIGN, check_contract, run_cli, snapshot


def refused(argv: list, needle: str) -> str:
    result = run_cli([str(a) for a in argv], time_limit_s=30)
    assert not check_contract(result, argv), f"accepted: {argv}"
    assert needle in result.err, result.err
    return result.err


@pytest.fixture(scope="module")
def study(tmp_path_factory) -> Path:
    """Study 'small' (20 designs at batch 1 and 2) in a journal file."""
    storage = tmp_path_factory.mktemp("robust") / "study.log"
    result = run_cli(["run", "--model", "deit-t", "--blocks", "1", "--no-embed-head", "--batch", "1-2",
                      "--space", "sequential", "--budget", "20", "--population", "10",
                      "--storage", str(storage), "--study-name", "small", "--quiet"])
    assert result.code == 0, result.err
    return storage


@pytest.fixture
def design(tmp_path) -> Path:
    path = tmp_path / "design.json"
    path.write_text(json.dumps(DESIGN))
    return path


# -- inputs that are not what they claim ---------------------------------------------------
def test_a_fifo_in_place_of_any_input_file_is_refused_without_blocking(tmp_path, design):
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    refused(["evaluate", fifo], "is a FIFO")
    refused(["evaluate", write(tmp_path, "p.json", dict(DESIGN, platform=str(fifo)))], "is a FIFO")
    refused(["evaluate", write(tmp_path, "w.json", dict(DESIGN, workload={"hf_config": str(fifo)}))],
            "is a FIFO")
    refused(["run", "--workload", fifo, "--storage", tmp_path / "s.log"], "is a FIFO")
    refused(["run", "--model", "deit-t", "--seed-design", fifo, "--storage", tmp_path / "s.log"], "FIFO")
    refused(["front", "--study-name", "x", "--storage", fifo], "is a FIFO")
    refused(["bench", "--model", "deit-t", "--reference", fifo, "--out", tmp_path / "b"], "is a FIFO")


def test_devices_directories_and_links_to_them_are_refused(tmp_path):
    os.symlink("/dev/null", tmp_path / "null.log")
    os.symlink("/dev/zero", tmp_path / "zero.json")
    refused(["front", "--study-name", "x", "--storage", tmp_path / "null.log"], "character device")
    refused(["front", "--study-name", "x", "--storage", f"sqlite:///{tmp_path}/null.log"], "character device")
    refused(["evaluate", tmp_path / "zero.json"], "character device")
    refused(["evaluate", tmp_path], "is a directory")


def test_a_design_file_is_never_opened_as_a_journal(tmp_path, design):
    before = design.read_bytes()
    refused(["front", "--study-name", "x", "--storage", design], "not an Optuna journal")
    assert design.read_bytes() == before


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        (b'{"workload": "\xe9t\xe9"}', "is not UTF-8 text (byte 0xe9 at offset 14)"),
        ('{"batch": 1}'.encode("utf-16"), "is not UTF-8 text"),
        (b'{"batch": ' + b"9" * 5000 + b"}", "not valid JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    ],
    ids=["latin-1", "utf-16", "5000-digit integer", "deep nesting"],
)
def test_undecodable_design_files_are_one_line(tmp_path, data, needle):
    path = tmp_path / "d.json"
    path.write_bytes(data)
    refused(["evaluate", path], needle)


def test_a_platform_toml_with_latin_1_bytes_is_one_line(tmp_path):
    from ssropt.objectives.platforms import PLATFORM_DIR

    toml = tmp_path / "board.toml"
    toml.write_bytes((PLATFORM_DIR / "vck190.toml").read_bytes().replace(b"# AMD", b"# \xe9", 1))
    refused(["evaluate", write(tmp_path, "d.json", dict(DESIGN, platform=str(toml)))], "not UTF-8")


# -- outputs: checked first, written all or nothing ---------------------------------------
@pytest.mark.parametrize(
    ("option", "destination", "needle"),
    [
        ("--json", "{tmp}/missing/x.json", "does not exist"),
        ("--json", "{tmp}", "must end in .json"),
        ("--csv", "{tmp}/folder.csv", "is a directory"),
        ("--json", "/dev/full", "must end in .json"),
        ("--json", "{tmp}/full.json", "character device"),
        ("--plot", "{tmp}/front.xyz", "must end in .png, .pdf, .svg, .html"),
        ("--csv", "", "not a file name"),
    ],
)
def test_a_bad_destination_is_refused_before_anything_is_written(study, tmp_path, option,
                                                                  destination, needle):
    (tmp_path / "folder.csv").mkdir()
    os.symlink("/dev/full", tmp_path / "full.json")
    before = snapshot(tmp_path)
    argv = ["front", "--study-name", "small", "--storage", study, "--csv", tmp_path / "ok.csv",
            "--plot", tmp_path / "ok.png", option, destination.replace("{tmp}", str(tmp_path))]
    if option in ("--csv", "--plot"):
        argv = argv[:5] + [option, argv[-1]]
    refused(argv, needle)
    assert snapshot(tmp_path) == before


def test_a_read_only_file_system_is_named(study, tmp_path, monkeypatch):
    from ssropt.outputs import files

    monkeypatch.setattr(files.os, "access", lambda path, mode: False)
    refused(["front", "--study-name", "small", "--storage", study, "--csv", tmp_path / "f.csv"],
            "is not writable")


def test_a_full_disk_leaves_every_destination_as_it_was(study, tmp_path, monkeypatch):
    from ssropt.outputs import files

    (tmp_path / "old.json").write_text("old")
    calls = []

    def fsync(fd):
        calls.append(fd)
        if len(calls) == 2:  # the second file: the disk is full
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(files.os, "fsync", fsync)
    before = snapshot(tmp_path)
    refused(["front", "--study-name", "small", "--storage", study, "--csv", tmp_path / "new.csv",
             "--json", tmp_path / "old.json", "--plot", tmp_path / "new.png"],
            "No space left on device")
    assert snapshot(tmp_path) == before  # no new file, the old one untouched, no temporary


def test_outputs_appear_together_and_keep_the_permissions_of_the_files_they_replace(study, tmp_path):
    old = tmp_path / "front.json"
    old.write_text("old")
    old.chmod(0o640)
    result = run_cli(["front", "--study-name", "small", "--storage", str(study), "--json", str(old),
                      "--csv", str(tmp_path / "front.csv"), "--plot", str(tmp_path / "front.svg")])
    assert check_contract(result)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["front.csv", "front.json", "front.svg"]
    assert isinstance(json.loads(old.read_text()), list)
    assert old.stat().st_mode & 0o777 == 0o640
    assert (tmp_path / "front.svg").read_text().lstrip().startswith("<?xml")


def test_dash_writes_to_standard_output(study):
    result = run_cli(["front", "--study-name", "small", "--storage", str(study), "--json", "-"])
    assert check_contract(result)
    assert isinstance(json.loads(result.out), list)
    refused(["front", "--study-name", "small", "--storage", study, "--json", "-", "--csv", "-"],
            "two outputs go to standard output")


def test_show_checks_its_destinations_before_reading_the_study(study, tmp_path):
    refused(["show", "--study-name", "small", "--storage", study, "--trial", "0",
             "--design-out", tmp_path / "d.json", "--gantt", tmp_path / "nope" / "g.png"],
            "does not exist")
    assert list(tmp_path.iterdir()) == []


# -- options --------------------------------------------------------------------------------
def test_front_at_a_batch_without_designs_names_the_batches_that_have_some(study):
    result = run_cli(["front", "--study-name", "small", "--storage", str(study), "--batch", "99"])
    assert check_contract(result)
    assert "no design at batch 99" in result.out
    assert "searches batch sizes 1, 2" in result.out and "feasible designs exist at batch" in result.out


def test_resume_refuses_a_budget_below_the_designs_already_evaluated(study, tmp_path):
    copy = tmp_path / "copy.log"
    copy.write_bytes(study.read_bytes())
    refused(["resume", "--study-name", "small", "--storage", copy, "--budget", "10"],
            "below the 20 designs study 'small' has already evaluated")
    assert copy.read_bytes() == study.read_bytes()


def test_max_accelerators_below_the_spatial_count_is_refused(tmp_path):
    refused(["run", "--model", "deit-t", "--space", "spatial", "--max-accelerators", "3",
             "--storage", tmp_path / "s.log"], "has exactly 10 accelerators")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("option", "value", "needle"),
    [
        ("--budget", "10000000000", "at most 1,000,000,000"),
        ("--seed", "4294967296", "at most 4,294,967,295"),
        ("--time-limit", "nan", "expected a positive number, got 'nan'"),
        ("--tokens", "131073", "at most 131,072"),
        ("--batch", "1-1000000000000", "at most 1024 images per batch"),
    ],
)
def test_numeric_options_have_limits(tmp_path, option, value, needle):
    refused(["run", "--model", "deit-t", option, value, "--storage", tmp_path / "s.log"], needle)
    assert list(tmp_path.iterdir()) == []


def test_an_unexpected_exception_is_one_line_with_status_1(design, monkeypatch):
    from ssropt.objectives.models.ssr.model import SsrModel

    def broken(*args, **kwargs):
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr(SsrModel, "_evaluate", broken)
    result = run_cli(["evaluate", str(design)])
    assert result.code == 1 and result.out == ""
    assert result.err == "error: internal error (please report it): RuntimeError: boom second line\n"


# -- real processes: pipes and signals -------------------------------------------------------
def _interruptible() -> None:
    """In the child: Ctrl-C as at a terminal, whatever the test run inherited (a shell
    starting a job in the background without job control ignores SIGINT for it, and an
    ignored SIGINT stays ignored in every process it starts)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def spawn(*argv: str, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "ssropt", *argv], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, preexec_fn=_interruptible, **kwargs)


@pytest.mark.slow
def test_a_closed_standard_output_ends_quietly(design):
    reader, writer = os.pipe()
    os.close(reader)  # nobody reads: the first write fails with EPIPE
    proc = subprocess.run([sys.executable, "-m", "ssropt", "evaluate", str(design), "--json"],
                          stdout=writer, stderr=subprocess.PIPE, timeout=120, check=False)
    os.close(writer)
    assert proc.returncode == 141
    assert proc.stderr == b""


def numpy_loaded(pid: int) -> bool:
    try:
        return "_multiarray_umath" in Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return False


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="needs /proc")
def test_ctrl_c_while_the_commands_load_is_one_line(tmp_path):
    proc = spawn("run", "--model", "deit-t", "--budget", "100000", "--quiet",
                 "--storage", str(tmp_path / "s.log"))
    deadline = time.monotonic() + 60
    while not numpy_loaded(proc.pid) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.002)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert out == b"" and err.decode().count("\n") == 1
    assert err.startswith(b"error: interrupted")


@pytest.mark.slow
def test_ctrl_c_during_a_run_names_the_resume_command(tmp_path):
    proc = spawn("run", "--model", "deit-t", "--budget", "100000", "--quiet", "--study-name", "s",
                 "--storage", str(tmp_path / "s.log"))
    time.sleep(8)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130
    assert b"Traceback" not in err
    assert err.splitlines()[-1].startswith(b"error: interrupted")


def write(folder: Path, name: str, design: dict) -> Path:
    path = folder / name
    path.write_text(json.dumps(design))
    return path
