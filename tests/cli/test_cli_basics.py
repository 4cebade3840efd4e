"""The command line's basics: ``--version``, ``python -m ssropt``, argument errors that name
their command on one line."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import ssropt
from ssropt.cli import main

CONSOLE_SCRIPT = shutil.which("ssropt", path=str(Path(sys.executable).parent))


def run(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([*argv], check=False, capture_output=True, text=True, timeout=120)


def test_version_prints_the_package_version(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out == f"ssropt {ssropt.__version__}\n"


@pytest.mark.skipif(CONSOLE_SCRIPT is None, reason="the ssropt console script is not installed")
def test_the_console_script_and_python_m_ssropt_print_the_version():
    for argv in ([CONSOLE_SCRIPT, "--version"], [sys.executable, "-m", "ssropt", "--version"]):
        done = run(*argv)
        assert done.returncode == 0 and done.stderr == ""
        assert done.stdout == f"ssropt {ssropt.__version__}\n"


def test_an_argument_error_names_the_command_on_one_line(capsys, tmp_path):
    code = main(["run", "--model", "deit-t", "--budget", "0", "--storage", str(tmp_path / "s.log")])
    assert code == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == "ssropt run: error: argument --budget: expected a positive integer, got '0'\n"
    assert list(tmp_path.iterdir()) == []


def test_python_m_ssropt_reports_an_argument_error_with_status_2(tmp_path):
    done = run(sys.executable, "-m", "ssropt", "front", "--study-name", "x", "--batch", "0",
               "--storage", str(tmp_path / "s.log"))
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == "ssropt front: error: argument --batch: expected a positive integer, got '0'\n"


def test_an_unknown_command_is_one_line_naming_ssropt(capsys):
    assert main(["simulate"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ssropt: error: argument COMMAND: invalid choice: 'simulate'")
    assert err.count("\n") == 1


def test_other_bad_input_keeps_the_error_prefix(capsys):
    assert main(["evaluate", "no-such-design.json"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: cannot read design file 'no-such-design.json'") and err.count("\n") == 1
