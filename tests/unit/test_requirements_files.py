"""requirements.txt and the files it includes with -r/-c: collection and fingerprint."""

from __future__ import annotations

from pathlib import Path

import pytest

from python_cnb.requirements_files import MissingRequirementsFile, collect, fingerprint


def _files(app: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = app / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return app


def _collected(app: Path, root: str = "requirements.txt") -> list[str]:
    return [path.relative_to(app.resolve()).as_posix() for path in collect(app / root, app)]


@pytest.mark.parametrize(
    "line",
    [
        "-r base.txt",
        "-rbase.txt",
        "-r  base.txt",
        "  -r base.txt  ",
        "\t-r\tbase.txt",
        "--requirement base.txt",
        "--requirement=base.txt",
        "--requirement = base.txt",
        "-c base.txt",
        "-cbase.txt",
        "--constraint base.txt",
        "--constraint=base.txt",
        "-r 'base.txt'",
        '-r "base.txt"',
        "-r ./base.txt",
        "-r base.txt # the shared pins",
        "-r base.txt --hash=sha256:abc",
    ],
)
def test_include_forms(tmp_path: Path, line: str) -> None:
    app = _files(tmp_path, {"requirements.txt": f"flask\n{line}\n", "base.txt": "click\n"})
    assert _collected(app) == ["requirements.txt", "base.txt"]


@pytest.mark.parametrize(
    "line",
    [
        "requests",
        "-e .",
        "--require-hashes",
        "--config-settings=x=y",
        "-i https://pypi.test/simple",
        "# -r base.txt",
        "#-r base.txt",
        "flask # -r base.txt",
        "-rbase.txt#nope",
    ],
)
def test_lines_that_include_nothing(tmp_path: Path, line: str) -> None:
    app = _files(tmp_path, {"requirements.txt": f"{line}\n"})
    if line == "-rbase.txt#nope":
        with pytest.raises(MissingRequirementsFile) as caught:
            collect(app / "requirements.txt", app)
        assert caught.value.missing == "base.txt#nope"
        return
    assert _collected(app) == ["requirements.txt"]


def test_nested_includes_are_relative_to_the_including_file(tmp_path: Path) -> None:
    app = _files(
        tmp_path,
        {
            "requirements.txt": "-r requirements/prod.txt\n-c constraints.txt\n",
            "requirements/prod.txt": "-r base.txt\ngunicorn\n",
            "requirements/base.txt": "-r ../shared/common.txt\nflask\n",
            "shared/common.txt": "click\n",
            "constraints.txt": "click<9\n",
        },
    )
    assert _collected(app) == [
        "requirements.txt",
        "requirements/prod.txt",
        "constraints.txt",
        "requirements/base.txt",
        "shared/common.txt",
    ]


def test_cycles_and_repeats_are_visited_once(tmp_path: Path) -> None:
    app = _files(
        tmp_path,
        {
            "requirements.txt": "-r a.txt\n-r b.txt\n-r a.txt\n",
            "a.txt": "-r b.txt\n-r requirements.txt\n",
            "b.txt": "-r ./a.txt\n-r sub/../a.txt\n",
            "sub/.keep": "",
        },
    )
    assert _collected(app) == ["requirements.txt", "a.txt", "b.txt"]


def test_urls_and_environment_variables_are_skipped(tmp_path: Path) -> None:
    app = _files(
        tmp_path,
        {
            "requirements.txt": (
                "-r https://example.test/requirements.txt\n"
                "-c http://example.test/constraints.txt\n"
                "-r ${REQUIREMENTS_DIR}/base.txt\n"
                "--requirement=${ENV}.txt\n"
            )
        },
    )
    assert _collected(app) == ["requirements.txt"]


def test_continuations(tmp_path: Path) -> None:
    app = _files(
        tmp_path,
        {
            "requirements.txt": (
                "flask==3.0.0 \\\n"
                "    --hash=sha256:abc\n"
                "-r \\\n"
                "   base.txt\n"
                "-c cons\\\n"
                "traints.txt\n"
            ),
            "base.txt": "click\n",
            "constraints.txt": "click<9\n",
        },
    )
    assert _collected(app) == ["requirements.txt", "base.txt", "constraints.txt"]


def test_comment_line_ends_a_continuation(tmp_path: Path) -> None:
    app = _files(
        tmp_path,
        {
            "requirements.txt": "-r base.txt \\\n# a comment\n-c more.txt\n",
            "base.txt": "",
            "more.txt": "",
        },
    )
    assert _collected(app) == ["requirements.txt", "base.txt", "more.txt"]


def test_comment_before_a_backslash_does_not_continue(tmp_path: Path) -> None:
    app = _files(tmp_path, {"requirements.txt": "flask # pinned \\\n-r base.txt\n", "base.txt": ""})
    assert _collected(app) == ["requirements.txt"]


def test_continuation_at_the_end_of_the_file(tmp_path: Path) -> None:
    app = _files(tmp_path, {"requirements.txt": "flask\n-r base.txt \\", "base.txt": ""})
    assert _collected(app) == ["requirements.txt", "base.txt"]


def test_crlf_and_byte_order_mark(tmp_path: Path) -> None:
    app = _files(tmp_path, {"base.txt": "click\r\n", "more.txt": "x\r\n"})
    (app / "requirements.txt").write_bytes(b"\xef\xbb\xbf-r base.txt\r\n-r more.txt\r\n")
    assert _collected(app) == ["requirements.txt", "base.txt", "more.txt"]


def test_missing_file(tmp_path: Path) -> None:
    app = _files(
        tmp_path,
        {
            "requirements.txt": "flask\n-r requirements/prod.txt\n",
            "requirements/prod.txt": "# prod\ngunicorn \\\n  ==23.0\n\n-c ../missing.txt  # pins\n",
        },
    )
    with pytest.raises(MissingRequirementsFile) as caught:
        collect(app / "requirements.txt", app)
    error = caught.value
    assert error.including_file == "requirements/prod.txt"
    assert error.line_number == 5
    assert error.line == "-c ../missing.txt"
    assert error.missing == "../missing.txt"


def test_missing_file_on_a_continued_line(tmp_path: Path) -> None:
    app = _files(tmp_path, {"requirements.txt": "flask\n--requirement \\\n  nope.txt\n"})
    with pytest.raises(MissingRequirementsFile) as caught:
        collect(app / "requirements.txt", app)
    assert (caught.value.line_number, caught.value.missing) == (2, "nope.txt")
    assert caught.value.line.split() == ["--requirement", "nope.txt"]


def test_a_directory_is_not_a_requirements_file(tmp_path: Path) -> None:
    app = _files(tmp_path, {"requirements.txt": "-r requirements\n", "requirements/a.txt": ""})
    with pytest.raises(MissingRequirementsFile) as caught:
        collect(app / "requirements.txt", app)
    assert (caught.value.including_file, caught.value.missing) == (
        "requirements.txt",
        "requirements",
    )


def test_missing_file_in_an_included_file_outside_the_app(tmp_path: Path) -> None:
    app = _files(tmp_path / "app", {"requirements.txt": "-r ../shared/base.txt\n"})
    _files(tmp_path / "shared", {"base.txt": "-r nope.txt\n"})
    with pytest.raises(MissingRequirementsFile) as caught:
        collect(app / "requirements.txt", app)
    assert caught.value.including_file == str(tmp_path / "shared" / "base.txt")
    assert caught.value.missing == "nope.txt"


def test_app_dir_given_through_a_symlink(tmp_path: Path) -> None:
    real = _files(tmp_path / "real", {"requirements.txt": "-r base.txt\n", "base.txt": "-r x\n"})
    (tmp_path / "link").symlink_to(real)
    app = tmp_path / "link"
    with pytest.raises(MissingRequirementsFile) as caught:
        collect(app / "requirements.txt", app)
    assert caught.value.including_file == "base.txt"


def test_unbalanced_quotes_are_left_to_pip(tmp_path: Path) -> None:
    app = _files(tmp_path, {"requirements.txt": "-r 'base.txt\nflask\n"})
    assert _collected(app) == ["requirements.txt"]


def _app_for_fingerprint(tmp_path: Path) -> Path:
    return _files(
        tmp_path / "app",
        {
            "requirements.txt": "-r requirements/base.txt\nflask\n",
            "requirements/base.txt": "-c ../constraints.txt\nclick\n",
            "constraints.txt": "click<9\n",
        },
    )


def test_fingerprint_is_stable(tmp_path: Path) -> None:
    app = _app_for_fingerprint(tmp_path)
    first = fingerprint(collect(app / "requirements.txt", app), app)
    assert len(first) == 64
    assert fingerprint(collect(app / "requirements.txt", app), app) == first
    other = _app_for_fingerprint(tmp_path / "copy")
    assert fingerprint(collect(other / "requirements.txt", other), other) == first
    (app / "unrelated.txt").write_text("x", encoding="utf-8")
    assert fingerprint(collect(app / "requirements.txt", app), app) == first


@pytest.mark.parametrize(
    "changed", ["requirements.txt", "requirements/base.txt", "constraints.txt"]
)
def test_fingerprint_changes_with_any_included_file(tmp_path: Path, changed: str) -> None:
    app = _app_for_fingerprint(tmp_path)
    before = fingerprint(collect(app / "requirements.txt", app), app)
    with (app / changed).open("a", encoding="utf-8") as stream:
        stream.write("# changed\n")
    assert fingerprint(collect(app / "requirements.txt", app), app) != before


def test_fingerprint_covers_file_names(tmp_path: Path) -> None:
    app = _files(tmp_path, {"requirements.txt": "-r a.txt\n", "a.txt": "x\n"})
    before = fingerprint(collect(app / "requirements.txt", app), app)
    _files(app, {"requirements.txt": "-r b.txt\n", "b.txt": "x\n"})
    after = fingerprint(collect(app / "requirements.txt", app), app)
    assert before != after
