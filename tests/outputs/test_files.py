"""Output files: destinations checked first, files written all or nothing."""

from __future__ import annotations

import errno
import os
import stat

import pytest

from ssropt.outputs import files
from ssropt.outputs.files import (
    FIGURE_SUFFIXES,
    Output,
    OutputError,
    atomic_write,
    check_destinations,
    open_output,
    staged_outputs,
    write_outputs,
    write_text,
)


def names(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_destinations_are_checked_together(tmp_path):
    (tmp_path / "d.csv").mkdir()
    check_destinations([(tmp_path / "a.csv", (".csv",)), (None, (".json",)), None, "-"])
    cases = [
        ([(tmp_path / "a.txt", (".csv",))], "must end in .csv"),
        ([tmp_path / "d.csv"], "is a directory"),
        ([tmp_path / "no" / "a.csv"], "does not exist"),
        ([tmp_path / "a.csv", tmp_path / "." / "a.csv"], "two outputs go to"),
        (["-", "-"], "two outputs go to standard output"),
        (["/dev/full"], "character device"),
        ([""], "not a file name"),
    ]
    for destinations, needle in cases:
        with pytest.raises(OutputError, match=needle):
            check_destinations(destinations)
    assert names(tmp_path) == ["d.csv"]


def test_a_link_is_followed_and_the_file_it_names_replaced(tmp_path):
    real = tmp_path / "real.json"
    real.write_text("old")
    (tmp_path / "link.json").symlink_to(real)
    write_text(tmp_path / "link.json", "new")
    assert (tmp_path / "link.json").is_symlink() and real.read_text() == "new"


def test_a_failed_writer_leaves_nothing_behind(tmp_path):
    (tmp_path / "keep.csv").write_text("old")

    def broken(fh):
        fh.write("half")
        raise ValueError("bug")

    with pytest.raises(ValueError):
        write_outputs([Output(tmp_path / "a.csv", lambda fh: fh.write("a")),
                       Output(tmp_path / "keep.csv", broken)])
    assert names(tmp_path) == ["keep.csv"] and (tmp_path / "keep.csv").read_text() == "old"


def test_enospc_is_one_line_and_nothing_is_written(tmp_path, monkeypatch):
    def full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(files.os, "fsync", full)
    with pytest.raises(OutputError, match=r"cannot write '.*a\.json': No space left on device"):
        atomic_write(tmp_path / "a.json", lambda fh: fh.write("{}"))
    assert names(tmp_path) == []


def test_staged_outputs_appear_together_or_not_at_all(tmp_path):
    with pytest.raises(RuntimeError):
        with staged_outputs():
            write_text(tmp_path / "a.md", "a")
            with open_output(tmp_path / "b.csv") as fh:
                fh.write("b")
            assert names(tmp_path) == [n for n in names(tmp_path) if n.startswith(".")]  # staged only
            raise RuntimeError("the report failed half-way")
    assert names(tmp_path) == []
    with staged_outputs():
        write_text(tmp_path / "a.md", "a")
        write_text(tmp_path / "b.md", "b")
    assert names(tmp_path) == ["a.md", "b.md"]


def test_new_files_follow_the_umask(tmp_path):
    old = os.umask(0o027)
    try:
        write_text(tmp_path / "a.md", "a")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "a.md").stat().st_mode) == 0o640


def test_figures_take_the_format_of_their_extension(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    def draw():
        fig, ax = plt.subplots()
        ax.plot([1, 2], [3, 4])
        return fig

    for suffix in FIGURE_SUFFIXES:
        write_outputs([files.figure_output(tmp_path / f"f{suffix}", draw)])
    assert (tmp_path / "f.png").read_bytes()[:4] == b"\x89PNG"
    assert (tmp_path / "f.pdf").read_bytes()[:4] == b"%PDF"
    assert b"<svg" in (tmp_path / "f.svg").read_bytes()
