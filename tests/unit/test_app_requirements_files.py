"""requirements.txt and the files it includes with -r/-c: collection and fingerprint."""

from __future__ import annotations

from pathlib import Path

import pytest

from python_cnb import output
from python_cnb.app.project_files import OutsideApp
from python_cnb.app.requirements_files import (
    CREDENTIAL,
    InvalidRequirementsLine,
    LocalPathOutsideApp,
    MissingRequirementsFile,
    RequirementLine,
    RequirementSet,
    VcsSource,
    collect,
    decode,
    fingerprint,
    read_requirements,
    redact_url,
    tree_digest,
)


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
    assert _collected(app) == [  # depth first, in pip's order
        "requirements.txt",
        "requirements/prod.txt",
        "requirements/base.txt",
        "shared/common.txt",
        "constraints.txt",
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


def test_remote_includes_are_left_to_the_engine(tmp_path: Path) -> None:
    app = _files(
        tmp_path,
        {
            "requirements.txt": (
                "-r https://example.test/requirements.txt\n-c http://example.test/constraints.txt\n"
            )
        },
    )
    assert _collected(app) == ["requirements.txt"]
    lines = read_requirements(app / "requirements.txt", app).lines
    assert [line.text for line in lines] == [
        "-r https://example.test/requirements.txt",
        "-c http://example.test/constraints.txt",
    ]


def test_includes_named_by_environment_variables_are_followed(tmp_path: Path) -> None:
    app = _files(
        tmp_path,
        {
            "requirements.txt": "-r ${REQUIREMENTS_DIR}/base.txt\n--requirement=${ENV}.txt\n",
            "reqs/base.txt": "six\n",
            "prod.txt": "flask\n",
        },
    )
    read = read_requirements(
        app / "requirements.txt", app, {"REQUIREMENTS_DIR": "reqs", "ENV": "prod"}
    )
    assert [p.relative_to(app).as_posix() for p in read.files] == [
        "requirements.txt",
        "reqs/base.txt",
        "prod.txt",
    ]
    assert read.variables == (("ENV", "prod"), ("REQUIREMENTS_DIR", "reqs"))
    with pytest.raises(MissingRequirementsFile) as caught:  # unset: pip keeps ${...} as is
        collect(app / "requirements.txt", app)
    assert caught.value.missing == "${REQUIREMENTS_DIR}/base.txt"


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


def test_a_comment_ending_in_a_backslash_does_not_swallow_the_next_line(tmp_path: Path) -> None:
    """pip-compile's header can end in ``\\``: pip does not continue a comment line."""
    app = _files(
        tmp_path,
        {"requirements.txt": "# generated by pip-compile \\\nflask==3.1.3 --hash=sha256:ab\n"},
    )
    (line,) = read_requirements(app / "requirements.txt", app).lines
    assert (line.number, line.pin, line.hashes) == (2, ("flask", "3.1.3"), ("sha256:ab",))


@pytest.mark.parametrize(
    ("text", "pin"),
    [
        ("flask==3.1.3", ("flask", "3.1.3")),
        ("flask == 3.1.3", ("flask", "3.1.3")),
        ("Flask_SQLAlchemy[async]==3.1.1 ; python_version >= '3.9'", ("flask-sqlalchemy", "3.1.1")),
        ("flask===3.1.3", ("flask", "3.1.3")),
        ("flask>=3", None),
        ("flask==3.*", None),
        ("flask==3.1.3,<4", None),
        ("flask @ https://host/flask-3.1.3-py3-none-any.whl", None),
        ("-e ./lib", None),
        ("not a requirement ==", None),
    ],
)
def test_the_pinned_version_of_a_line(text: str, pin: object) -> None:
    assert RequirementLine("requirements.txt", 1, f"{text} --hash=sha256:ab", False).pin == pin


@pytest.mark.parametrize(
    ("options", "hashes"),
    [
        ("--hash=sha256:ab --hash=sha256:cd", ("sha256:ab", "sha256:cd")),
        ("   --hash sha256:ab", ("sha256:ab",)),
        ("--config-settings=a=b --hash=sha512:ef", ("sha512:ef",)),
        ("", ()),
    ],
)
def test_the_hashes_of_a_line(options: str, hashes: tuple[str, ...]) -> None:
    line = RequirementLine("requirements.txt", 1, f"flask==3.1.3 {options}", False)
    assert (line.hashes, line.hashed) == (hashes, bool(hashes))


def test_a_hash_in_a_url_is_not_an_option() -> None:
    line = RequirementLine("r.txt", 1, "pkg @ https://host/p--hash/pkg-1.0.tar.gz", False)
    assert not line.hashed and line.hashes == ()


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


def test_an_include_outside_the_app_is_refused_unread(tmp_path: Path) -> None:
    """Only the app directory reaches a build (LOW-7): an include that resolves outside it is
    refused before it is read, as the Procfile and version files are."""
    app = _files(tmp_path / "app", {"requirements.txt": "-r ../shared/base.txt\n"})
    _files(tmp_path / "shared", {"base.txt": "-r nope.txt\n"})
    with pytest.raises(OutsideApp) as caught:
        collect(app / "requirements.txt", app)
    assert caught.value.args == ("../shared/base.txt", str(tmp_path / "shared" / "base.txt"))


def test_app_dir_given_through_a_symlink(tmp_path: Path) -> None:
    real = _files(tmp_path / "real", {"requirements.txt": "-r base.txt\n", "base.txt": "-r x\n"})
    (tmp_path / "link").symlink_to(real)
    app = tmp_path / "link"
    with pytest.raises(MissingRequirementsFile) as caught:
        collect(app / "requirements.txt", app)
    assert caught.value.including_file == "base.txt"


def test_unbalanced_quotes_are_refused(tmp_path: Path) -> None:
    app = _files(tmp_path, {"requirements.txt": "-r 'base.txt\nflask\n"})
    with pytest.raises(InvalidRequirementsLine) as caught:
        collect(app / "requirements.txt", app)
    assert (caught.value.line_number, caught.value.reason) == (1, "No closing quotation")


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


def _read(app: Path, env: dict[str, str] | None = None) -> RequirementSet:
    return read_requirements(app / "requirements.txt", app, env)


def test_options_are_read_in_pips_order_with_find_links_beside_the_file(tmp_path: Path) -> None:
    app = _files(
        tmp_path,
        {
            "requirements.txt": (
                "--extra-index-url https://a.test/simple\n"
                "-r reqs/base.txt\n"
                "-i https://b.test/simple --trusted-host b.test\n"
                "--only-binary=:all: --no-binary lxml --pre --prefer-binary\n"
                "--require-hashes\n"
                "--use-feature=truststore\n"
            ),
            "reqs/base.txt": "--find-links ../wheels\n-f elsewhere\nsix\n",
            "wheels/.keep": "",
        },
    )
    options = [(o.name, o.value, o.file, o.number) for o in _read(app).options]
    assert options == [
        ("extra-index-url", "https://a.test/simple", "requirements.txt", 1),
        ("find-links", str(app.resolve() / "reqs" / ".." / "wheels"), "reqs/base.txt", 1),
        ("find-links", "elsewhere", "reqs/base.txt", 2),
        ("index-url", "https://b.test/simple", "requirements.txt", 3),
        ("trusted-host", "b.test", "requirements.txt", 3),
        ("only-binary", ":all:", "requirements.txt", 4),
        ("no-binary", "lxml", "requirements.txt", 4),
        ("pre", "", "requirements.txt", 4),
        ("prefer-binary", "", "requirements.txt", 4),
        ("require-hashes", "", "requirements.txt", 5),
    ]


@pytest.mark.parametrize("line", ["--frobnicate", "--index-url", "--pre=yes"])
def test_options_pip_refuses(tmp_path: Path, line: str) -> None:
    app = _files(tmp_path, {"requirements.txt": f"six\n{line}\n"})
    with pytest.raises(InvalidRequirementsLine) as caught:
        _read(app)
    assert (caught.value.file, caught.value.line_number, caught.value.line) == (
        "requirements.txt",
        2,
        line,
    )


def test_render_drops_option_lines_and_splits_constraints(tmp_path: Path) -> None:
    app = _files(
        tmp_path,
        {
            "requirements.txt": "-i https://x.test/\n-c c.txt\nflask==3 \\\n  --hash=sha256:ab\n",
            "c.txt": "click<9\n",
        },
    )
    assert _read(app).render() == ("flask==3   --hash=sha256:ab\n", "click<9\n")


def test_what_pip_accepts_and_uv_does_not(tmp_path: Path) -> None:
    """A Latin-1 comment, ${VAR} in a version, a continuation at the end of the file."""
    app = tmp_path / "app"
    app.mkdir()
    (app / "requirements.txt").write_bytes("# Müller\ntinypkg==${V} \\".encode("latin-1"))
    read = _read(app, {"V": "2.0"})
    assert [line.text for line in read.lines] == ["tinypkg==2.0"]
    assert read.render() == ("tinypkg==2.0\n", "")


@pytest.mark.parametrize(
    ("data", "text"),
    [
        (b"\xef\xbb\xbfsix\n", "six\n"),
        ("\ufeffsix\n".encode("utf-16"), "\ufeffsix\n"[1:]),
        (b"# -*- coding: cp1252 -*-\n# \x80\n", "# -*- coding: cp1252 -*-\n# \u20ac\n"),
        ("# é\n".encode(), "# é\n"),
        ("# é\n".encode("latin-1"), "# é\n"),
    ],
)
def test_decoding_follows_pip(data: bytes, text: str) -> None:
    assert decode(data) == text


def test_unset_and_empty_variables_stay_as_written(tmp_path: Path) -> None:
    app = _files(tmp_path, {"requirements.txt": "a==${A}\nb==${B}\nc==${lower}\n"})
    read = _read(app, {"B": ""})
    assert [line.text for line in read.lines] == ["a==${A}", "b==${B}", "c==${lower}"]
    assert read.variables == (("A", None), ("B", None))


@pytest.mark.parametrize(
    ("line", "local"),
    [
        ("./mylib", "mylib"),
        ("-e ./mylib", "mylib"),
        ("--editable=mylib", "mylib"),
        ("mylib", None),
        ("-e mylib/", "mylib"),
        ("mylib/", "mylib"),
        ("./mylib[extra]", "mylib"),
        ("mylib @ file:./mylib", "mylib"),
        (f"mylib@file://{'{app}'}/mylib", "mylib"),
        ("./dist/pkg-1.0-py3-none-any.whl", "dist/pkg-1.0-py3-none-any.whl"),
        ("flask==3.1.3", None),
        ("flask @ https://x.test/flask-3.1.3-py3-none-any.whl", None),
        ("git+https://x.test/repo.git#egg=x", None),
        ("-e git+https://x.test/repo.git#egg=x", None),
        ("flask ; python_version >= '3'", None),
    ],
)
def test_local_paths_inside_the_app(tmp_path: Path, line: str, local: str | None) -> None:
    app = _files(tmp_path / "app", {"mylib/setup.py": "", "dist/pkg-1.0-py3-none-any.whl": ""})
    (app / "requirements.txt").write_text(line.replace("{app}", str(app)) + "\n")
    found = [p.relative_to(app.resolve()).as_posix() for p in _read(app).local_paths]
    assert found == ([local] if local else [])


@pytest.mark.parametrize(
    "line",
    [
        "-e /opt/elsewhere/mylib",
        "/opt/elsewhere/mylib",
        "mylib @ file:///opt/elsewhere/mylib",
        "../outside",
        "-e ../outside",
        "./inside/../../outside",
        "./link-out",
    ],
)
def test_local_paths_outside_the_app_are_refused(tmp_path: Path, line: str) -> None:
    app = _files(tmp_path / "app", {"requirements.txt": f"six\n{line}\n"})
    (tmp_path / "outside").mkdir()
    (app / "link-out").symlink_to(tmp_path / "outside")
    with pytest.raises(LocalPathOutsideApp) as caught:
        _read(app)
    assert (caught.value.file, caught.value.line_number, caught.value.line) == (
        "requirements.txt",
        2,
        line,
    )


def test_tree_digest(tmp_path: Path) -> None:
    tree = _files(tmp_path / "lib", {"pkg/__init__.py": "V = 1\n", "setup.py": ""})
    before = tree_digest(tree)
    _files(tree, {"pkg/__pycache__/x.pyc": "x", "pkg.egg-info/PKG-INFO": "x", ".git/HEAD": "x"})
    assert tree_digest(tree) == before
    (tree / "setup.py").chmod(0o755)
    assert tree_digest(tree) != before
    assert tree_digest(tmp_path / "nope") == "missing"


def test_variables_in_url_credentials_are_not_recorded(tmp_path: Path) -> None:
    app = _files(
        tmp_path,
        {
            "requirements.txt": (
                "-i https://${USER_NAME}:${TOKEN}@${HOST}/simple\n"
                "--extra-index-url https://x.test/${TOKEN}/simple\n"
                "six==${V}\n"
            )
        },
    )
    read = _read(app, {"USER_NAME": "me", "TOKEN": "s3cret", "HOST": "pkgs.test", "V": "1"})
    assert read.variables == (
        ("HOST", "pkgs.test"),
        ("TOKEN", CREDENTIAL),
        ("USER_NAME", CREDENTIAL),
        ("V", "1"),
    )
    assert read.options[0].value == "https://me:s3cret@pkgs.test/simple"


SHA = "0123456789abcdef0123456789abcdef01234567"


@pytest.mark.parametrize(
    ("text", "source"),
    [
        (
            "-e git+https://host/org/repo#egg=My_Pkg",
            VcsSource("git+https://host/org/repo#egg=My_Pkg", "my-pkg", True, None),
        ),
        (
            f"--editable=git+file:///srv/repo@{SHA}#egg=mypkg",
            VcsSource(f"git+file:///srv/repo@{SHA}#egg=mypkg", "mypkg", True, SHA),
        ),
        (
            "-egit+https://host/repo@v1.0#egg=mypkg&subdirectory=src",
            VcsSource("git+https://host/repo@v1.0#egg=mypkg&subdirectory=src", "mypkg", True, None),
        ),
        (
            f"mypkg[extra] @ git+https://user:tok@host/repo@{SHA} ; python_version > '3'",
            VcsSource(f"git+https://user:tok@host/repo@{SHA}", "mypkg", False, SHA),
        ),
        (
            "git+ssh://git@host/repo@main#egg=mypkg",
            VcsSource("git+ssh://git@host/repo@main#egg=mypkg", "mypkg", False, None),
        ),
        ("-e ./lib", None),
        ("flask==3.1.3", None),
        ("pkg @ https://host/pkg-1.0.tar.gz", None),
    ],
)
def test_version_control_sources(text: str, source: VcsSource | None) -> None:
    assert RequirementLine("requirements.txt", 1, text, False).vcs == source


def test_an_abbreviated_commit_or_a_tag_is_not_pinned() -> None:
    for ref in (SHA[:12], "v1.0", "main"):
        line = RequirementLine("r.txt", 1, f"-e git+https://host/repo@{ref}#egg=p", False)
        assert line.vcs is not None and line.vcs.commit is None


def test_editable_version_control_lines_are_installed_regular(tmp_path: Path) -> None:
    app = _files(
        tmp_path,
        {
            "requirements.txt": "-e git+file:///srv/repo#egg=mypkg\n-e ./lib\n"
            "other @ git+https://host/other\n",
            "lib/setup.py": "",
        },
    )
    requirements = read_requirements(app / "requirements.txt", app)
    assert requirements.render()[0] == (
        "git+file:///srv/repo#egg=mypkg\n-e ./lib\nother @ git+https://host/other\n"
    )
    assert [source.name for _, source in requirements.vcs_lines()] == ["mypkg", "other"]


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("git+https://user:t0ken@host/repo", "git+https://****@host/repo"),
        ("git+https://t0ken@host/r@main#egg=x", "git+https://****@host/r@main#egg=x"),
        ("git+https://host/repo@main", "git+https://host/repo@main"),
        ("git+file:///srv/repo", "git+file:///srv/repo"),
    ],
)
def test_credentials_are_redacted_from_shown_urls(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_credentials_of_a_version_control_url_are_masked_in_the_log(tmp_path: Path) -> None:
    app = _files(tmp_path, {"requirements.txt": "-e git+https://bot:s3cr%2Ft@host/r#egg=x\n"})
    read_requirements(app / "requirements.txt", app)
    assert (
        output.mask("uv saw s3cr/t and s3cr%2Ft in git@host") == "uv saw **** and **** in git@host"
    )
