"""Write compiled environments into `output/<system>/<env>/`: each environment is replaced as a whole or not
at all, and nothing the build did not write is touched.

How (what a careful database promises about a crash: the old state or the new one, never a mix):
1. Under an advisory lock on the output folder (flock on the folder itself; `.stackloom.lock` beside the
   environments names the holder's pid while it runs), leftovers of an interrupted run are cleaned first
   (see 4).
2. Every environment is written completely into a staging folder beside its target
   (`<system>/.staging-<env>-<pid>`): the new files, plus the files of the old folder that the previous
   build's manifest does not list (ARCHITECTURE.md, anything of the user's), carried over. A full disk or a
   permission error stops here, before any environment is swapped, and the staging folders are removed.
3. Then each staging folder is swapped in with two renames: the old folder to `<system>/.previous-<env>-<pid>`,
   the staging folder to the target; the old one is deleted afterwards. An environment whose files are all
   unchanged is not swapped at all.
4. A crash between the two renames leaves no target folder and the complete old one under `.previous-...`:
   the next run renames it back (the old state) before it builds. A crash at any other point leaves the old
   or the new folder whole; stale staging folders, `.previous-...` folders beside a target and temporary
   files are removed by the next run.
If a swap fails after others succeeded, the error says which environments were updated and which were not.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

from stackloom import manifest as manifests
from stackloom.build import OVERRIDES_FILE, PARAMETERS_FILE, Build
from stackloom.errors import UserError, display, os_problem

STAGING = ".staging-"
PREVIOUS = ".previous-"
LOCK_FILE = ".stackloom.lock"
FILE_MODE = 0o666  # what a checkout writes: the umask decides (0644 with the usual 022)


class OutputError(UserError):
    """The output folder cannot be written as asked."""


def write(build: Build, output_dir: Path, params_dir: Path | None = None) -> Path:
    """Write one environment (see write_all)."""
    return write_all([build], output_dir, params_dir)[0]


def write_all(builds: list[Build], output_dir: Path, params_dir: Path | None = None) -> list[Path]:
    """Write every environment, each as a whole; returns their folders."""
    guard(output_dir, params_dir)
    if output_dir.exists() and not output_dir.is_dir():
        raise OutputError(f"{display(output_dir)}: Not a directory; --output must name a folder")
    targets = [output_dir / build.spec.system / build.spec.environment for build in builds]
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
        with lock(output_dir):
            recover(output_dir)
            for target in targets:
                _refuse_links(output_dir, target)
            staged: list[tuple[Path, Path | None]] = []
            try:
                for build, target in zip(builds, targets):
                    staged.append((target, _stage(build, target)))
            except BaseException:
                for _, staging in staged:
                    if staging is not None:
                        shutil.rmtree(staging, ignore_errors=True)
                raise
            _swap_all(staged)
    except OSError as error:
        raise OutputError(os_problem(error)) from None
    return targets


def guard(output_dir: Path, params_dir: Path | None) -> None:
    """Refuse output folders the build must never fill: `/`, the params folder or one inside it, and any
    folder that holds the params folder (a project root, whose other files are not the build's)."""
    resolved = output_dir.resolve()
    if resolved == Path(resolved.anchor):
        raise OutputError(f"--output {display(output_dir)}: refusing to write into the file system root")
    if params_dir is not None:
        params = params_dir.resolve()
        if resolved == params or params.is_relative_to(resolved) or resolved.is_relative_to(params):
            raise OutputError(
                f"--output {display(output_dir)}: refusing to write where the params folder {display(params_dir)} "
                "is (the same folder, inside it, or a folder holding it); give a folder of its own, e.g. output"
            )


@contextlib.contextmanager
def lock(output_dir: Path) -> Iterator[None]:
    """One build at a time per output folder: an advisory flock on the folder, the holder's pid in LOCK_FILE."""
    handle = os.open(output_dir, os.O_RDONLY)
    note = output_dir / LOCK_FILE
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(note)
            print(f"waiting for the build {holder}that is writing {display(output_dir)}", file=sys.stderr)
            fcntl.flock(handle, fcntl.LOCK_EX)
        note.write_text(f"{os.getpid()}\n", encoding="utf-8")
        try:
            yield
        finally:
            with contextlib.suppress(OSError):
                note.unlink()
    finally:
        os.close(handle)  # releases the lock


def _holder(note: Path) -> str:
    with contextlib.suppress(OSError, ValueError):
        return f"of pid {int(note.read_text(encoding='utf-8').strip())} "
    return ""


def recover(output_dir: Path) -> list[str]:
    """Undo what an interrupted run left (call under the lock): put back an old folder whose swap was cut
    between its two renames, then remove stale staging and previous folders and temporary files."""
    done = []
    for system in sorted(path for path in output_dir.iterdir() if path.is_dir() and not path.is_symlink()):
        for leftover in sorted(system.iterdir()):
            name = leftover.name
            if name.startswith(PREVIOUS) and leftover.is_dir() and not leftover.is_symlink():
                target = system / name[len(PREVIOUS) :].rsplit("-", 1)[0]
                if not target.exists():
                    os.rename(leftover, target)
                    done.append(f"restored {target}")
                else:
                    shutil.rmtree(leftover)
            elif name.startswith(STAGING) and leftover.is_dir() and not leftover.is_symlink():
                shutil.rmtree(leftover)
        for environment in system.iterdir():
            if environment.is_dir() and not environment.is_symlink():
                for temporary in environment.glob(".*.tmp"):
                    temporary.unlink()
    return done


def _refuse_links(output_dir: Path, target: Path) -> None:
    for folder in (target.parent, target):
        if folder.is_symlink():
            raise OutputError(
                f"{display(folder)} is a symbolic link (to {display(os.readlink(folder))}); the build writes only "
                f"real folders under {display(output_dir)}: remove the link or choose another --output"
            )
        if folder.exists() and not folder.is_dir():
            raise OutputError(f"{display(folder)}: not a folder; the build needs a folder here")


def managed(manifest: manifests.Manifest) -> set[str]:
    """The files a build wrote, per its manifest: the only files a later build may remove."""
    return {
        manifest.root_template,
        manifest.bootstrap_template,
        *manifest.nested_stacks.values(),
        manifests.FILE_NAME,
        PARAMETERS_FILE,
        OVERRIDES_FILE,
    }


def _previous_files(target: Path) -> set[str]:
    try:
        return managed(manifests.load(target))
    except UserError:  # no manifest, or one of another version: remove nothing that is not overwritten
        return set()


def _unchanged(build: Build, target: Path, previous: set[str]) -> bool:
    if not target.is_dir() or (previous and previous - set(build.files)):
        return False
    for name, content in build.files.items():
        path = target / name
        if not path.is_file() or path.is_symlink() or path.read_bytes() != content.encode("utf-8"):
            return False
    return True


def _stage(build: Build, target: Path) -> Path | None:
    """The environment written complete into a staging folder beside `target` (None: nothing changed)."""
    previous = _previous_files(target)
    if _unchanged(build, target, previous):
        return None
    staging = target.parent / f"{STAGING}{target.name}-{os.getpid()}"
    target.parent.mkdir(parents=True, exist_ok=True)
    staging.mkdir()
    try:
        for name, content in sorted(build.files.items()):
            _write_file(staging / name, content.encode("utf-8"))
        if target.is_dir():
            for item in sorted(target.iterdir()):
                if item.name in build.files or item.name in previous or item.name.endswith(".tmp"):
                    continue
                _carry(item, staging / item.name)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return staging


def _write_file(path: Path, data: bytes) -> None:
    handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(handle, view) :]
    finally:
        os.close(handle)


def _carry(source: Path, destination: Path) -> None:
    """A file of the old folder the build did not write, into the new one (a hard link where possible)."""
    if source.is_symlink():
        os.symlink(os.readlink(source), destination)
    elif source.is_dir():
        shutil.copytree(source, destination, symlinks=True)
    else:
        try:
            os.link(source, destination)
        except OSError:
            shutil.copy2(source, destination)


def _swap_all(staged: list[tuple[Path, Path | None]]) -> None:
    updated: list[Path] = []
    for index, (target, staging) in enumerate(staged):
        if staging is None:
            continue
        try:
            _swap(target, staging)
        except OSError as error:
            for _, rest in staged[index:]:
                if rest is not None:
                    shutil.rmtree(rest, ignore_errors=True)
            left = [str(item) for item, folder in staged[index:] if folder is not None]
            raise OutputError(
                f"{os_problem(error)}; updated: {', '.join(map(str, updated)) or 'none'}; not updated (old files kept): "
                + ", ".join(left)
            ) from None
        updated.append(target)


def _swap(target: Path, staging: Path) -> None:
    """Two renames: the old folder aside, the new one in place; then the old one is deleted."""
    if not target.exists():
        os.rename(staging, target)
        return
    previous = target.parent / f"{PREVIOUS}{target.name}-{os.getpid()}"
    os.rename(target, previous)
    try:
        os.rename(staging, target)
    except OSError:
        os.rename(previous, target)  # the old folder back: this environment keeps its old files
        raise
    shutil.rmtree(previous, ignore_errors=True)
