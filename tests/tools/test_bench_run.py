"""bench.run's fourth app: its files come from git, checked against the digest its
description records, with the benchmark's overlay on top; and the report's launch lines."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from bench import run


def _git(*args: str, cwd: Path) -> str:
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(cwd),
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@t",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@t",
    }
    done = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.fixture
def upstream(tmp_path: Path) -> tuple[Path, str, str]:
    """A repository with one commit (a Procfile, a script), its commit and files digest."""
    repo = tmp_path / "upstream"
    repo.mkdir()
    (repo / "Procfile").write_text("web: uwsgi\n")
    (repo / "manage.py").write_text("print('hi')\n")
    (repo / "manage.py").chmod(0o755)
    _git("init", "--quiet", cwd=repo)
    _git("add", ".", cwd=repo)
    _git("commit", "--quiet", "-m", "one", cwd=repo)
    return repo / ".git", _git("rev-parse", "HEAD", cwd=repo), run.files_digest(repo_files(repo))


def repo_files(repo: Path) -> Path:
    copy = repo.parent / "files"
    copy.mkdir()
    for name in ("Procfile", "manage.py"):
        (copy / name).write_bytes((repo / name).read_bytes())
        (copy / name).chmod((repo / name).stat().st_mode)
    return copy


def _app(tmp_path: Path, git_dir: Path, commit: str, digest: str) -> run.App:
    (tmp_path / "overlay").mkdir()
    (tmp_path / "overlay" / "requirements.txt").write_text("gunicorn\n")
    description = tmp_path / "demo.toml"
    description.write_text(
        f'source = "https://example.invalid/demo"\ncommit = "{commit}"\n'
        f'files_sha256 = "{digest}"\nlocal_git = "{git_dir}"\noverlay = "overlay"\n'
        'remove = ["Procfile"]\nadded = "x"\n'
    )
    return run.App("demo", tmp_path / "apps" / "demo", "x", external=description)


def test_the_digest_covers_contents_and_the_executable_bit(tmp_path: Path) -> None:
    (tmp_path / "a").write_text("1")
    before = run.files_digest(tmp_path)
    (tmp_path / "a").chmod(0o755)
    executable = run.files_digest(tmp_path)
    (tmp_path / "a").write_text("2")
    assert len({before, executable, run.files_digest(tmp_path)}) == 3


def test_the_commit_is_extracted_checked_and_overlaid(
    tmp_path: Path, upstream: tuple[Path, str, str]
) -> None:
    app = _app(tmp_path, *upstream)
    run.materialise(app, lambda _: None)
    assert sorted(p.name for p in app.source.iterdir()) == ["manage.py", "requirements.txt"]
    assert (app.source / "manage.py").stat().st_mode & 0o111


def test_files_that_do_not_match_the_digest_stop_the_benchmark(
    tmp_path: Path, upstream: tuple[Path, str, str]
) -> None:
    git_dir, commit, _digest = upstream
    app = _app(tmp_path, git_dir, commit, "0" * 64)
    with pytest.raises(run.BenchError, match="have digest"):
        run.materialise(app, lambda _: None)
    assert not app.source.exists()


def test_the_report_shows_each_repetitions_launch_ratio_with_default_and_one_worker() -> None:
    runs = {
        "first200": {"python-cnb": [0.9, 0.7], "pip": [0.6, 0.7]},
        "first200.rep": {"python-cnb": [0.9, 0.7], "pip": [0.6, 0.7]},
        "first200.one": {"python-cnb": [0.44], "pip": [0.4]},
        "first200.one.rep": {"python-cnb": [0.44], "pip": [0.4]},
    }
    lines = run._spread_lines(runs)
    assert "Launch to first HTTP 200 / by hand, each repetition's medians: 1.50x, 1.00x." in lines
    assert "The same with one worker (WEB_CONCURRENCY=1; not a target): 1.10x." in lines
    assert any(line.startswith("| ... with one worker") for line in lines)


@pytest.mark.parametrize(
    ("done", "launches", "elapsed", "expected"),
    [
        (0, 3, 0.0, True),
        (2, 3, 999.0, True),  # --launches is a minimum, whatever the time
        (3, 3, 999.0, True),  # then to an even number: each contender first as often
        (4, 3, 999.0, False),
        (4, 3, 10.0, True),  # more while the time allows
        (run.MOST_LAUNCHES, 3, 10.0, False),  # but not without end
        (run.MOST_LAUNCHES - 1, 3, 10.0, True),
    ],
)
def test_launch_turns(done: int, launches: int, elapsed: float, expected: bool) -> None:
    assert run.more_turns(done, launches, elapsed, 60.0) is expected
