"""Where a job's compiled numba kernels live, and what numba loads before the first kernel.

Both must be settled before numba is imported (it reads ``NUMBA_CACHE_DIR`` once), so the CLI
calls ``prepare_numba`` first thing in every phase job.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.abc
import importlib.util
import inspect
import os
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

CACHE_VARIABLE = "SPYRALFLOW_CACHE_DIR"
"""Overrides the machine-wide cache folder (default ``$XDG_CACHE_HOME/spyralflow``)."""


def cache_root() -> Path:
    """The machine-wide spyralflow cache folder: ``$SPYRALFLOW_CACHE_DIR``, else the XDG one."""
    explicit = os.environ.get(CACHE_VARIABLE)
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(xdg) / "spyralflow"


def numba_cache_folder(code_hash: str) -> Path:
    """The numba cache of a foreign phase's code hash: ``<cache root>/numba/<code_hash>``.

    Numba keys its disk cache on each kernel's own file only, so a kernel calling one from
    another module would keep stale machine code after an edit of the callee. A folder per code
    hash (which covers every module the phase imports) cannot go stale. It lies outside the
    workspace so that every workspace on the machine shares it: only the first job of a code
    version, anywhere, compiles.
    """
    return cache_root().resolve() / "numba" / code_hash


def skip_numba_extensions() -> None:
    """Do not load the third-party ``numba_extensions`` entry points in a phase job.

    Numba imports every installed extension before it dispatches its first kernel, cached or
    not; here that is ``vector`` (which imports sympy) and ``rocket_fft`` (scipy.fft): about a
    second of every job, for types no spyralflow kernel uses. ``init_all`` marks itself done
    through this module flag, so setting it first is the one way to skip them. Applied when
    numba is imported (``after_numba_import``), so a job that never uses numba does not import it.
    """

    def mark_initialised(numba: ModuleType) -> None:
        from numba.core import entrypoints

        entrypoints._already_initialized = True

    after_numba_import(mark_initialised)


def prepare_numba(code_hash: str, own_phase: bool = True) -> None:
    """Set up numba for one phase job: its shared cache folder, and no extensions.

    spyralflow's own phases share one folder per package version (``package_cache_folder``),
    with the tests and benchmarks that run the same kernels in-process: a kernel used by several
    phases, or compiled by a test, compiles once. A foreign phase gets the folder of its code
    hash (an empty hash, a hand-run job, leaves numba's default cache beside its sources). A
    ``NUMBA_CACHE_DIR`` already set is respected (the user chose it). Extensions are skipped only
    for spyralflow's own phases (``own_phase``): a foreign phase may need them, as Spyral's
    Pointcloud needs rocket_fft for ``np.fft`` inside its kernels.
    """
    if not os.environ.get("NUMBA_CACHE_DIR"):
        if own_phase:
            os.environ["NUMBA_CACHE_DIR"] = str(package_cache_folder())
        elif code_hash:
            os.environ["NUMBA_CACHE_DIR"] = str(numba_cache_folder(code_hash))
            cache_plain_kernels()
    if own_phase:
        skip_numba_extensions()


def cache_plain_kernels() -> None:
    """Make ``numba.njit`` and ``numba.jit`` cache by default, for a foreign phase's kernels.

    Spyral's kernels are plain ``@njit``: uncached, every Spyral job compiled them again (8 to
    15 s of each job). Caching changes only where the machine code comes from, not the code, and
    the phase's folder per code hash keeps it from going stale; a kernel that asks for
    ``cache=False`` keeps it, and one numba cannot cache (a closure, jitclass methods) is compiled
    as before. Call it before the phase's modules import numba's decorators; the decorators are
    replaced when numba is imported (``after_numba_import``).
    """
    after_numba_import(_make_decorators_cache)


def _make_decorators_cache(numba: ModuleType) -> None:
    if getattr(numba.njit, "_spyralflow_caching", False):
        return
    numba.njit = _caching_by_default(numba.njit)
    numba.jit = _caching_by_default(numba.jit)


def after_numba_import(callback: Callable[[ModuleType], None]) -> None:
    """Call ``callback(numba)`` now if numba is imported, else right after its import.

    A job sets numba up without importing it (half a second), so that a phase which never uses
    numba does not pay for it.
    """
    numba = sys.modules.get("numba")
    if numba is not None:
        callback(numba)
        return
    hook = next((f for f in sys.meta_path if isinstance(f, _AfterNumbaImport)), None)
    if hook is None:
        hook = _AfterNumbaImport()
        sys.meta_path.insert(0, hook)
    hook.callbacks.append(callback)


class _AfterNumbaImport(importlib.abc.MetaPathFinder):
    """Finds numba with the other finders and runs the callbacks once its module has run."""

    def __init__(self) -> None:
        self.callbacks: list[Callable[[ModuleType], None]] = []

    def find_spec(self, fullname: str, path=None, target=None):
        if fullname != "numba":
            return None
        sys.meta_path.remove(self)  # one use; the search below must not come back here
        spec = importlib.util.find_spec(fullname)
        if spec is None or spec.loader is None:
            return spec
        execute = spec.loader.exec_module

        def exec_module(module: ModuleType) -> None:
            execute(module)
            for callback in self.callbacks:
                callback(module)

        spec.loader.exec_module = exec_module
        return spec


def _caching_by_default(decorator):
    """``decorator`` (numba's njit or jit) with ``cache=True`` unless the caller says otherwise."""

    @functools.wraps(decorator)
    def cached(*args, **options):
        if "cache" in options:
            return decorator(*args, **options)
        if args and inspect.isfunction(args[0]):  # bare ``@njit``
            return _compile_cached(decorator, args[0], args[1:], options)
        return lambda function: _compile_cached(decorator, function, args, options)

    cached._spyralflow_caching = True
    return cached


def _compile_cached(decorator, function, signatures: tuple, options: dict):
    """The kernel of ``function`` with caching, or without where numba cannot cache it (no
    source file to key it on: code typed at a prompt or built with ``exec``)."""
    try:
        return decorator(*signatures, cache=True, **options)(function)
    except RuntimeError as error:
        if "cannot cache" not in str(error):
            raise
        return decorator(*signatures, **options)(function)


def package_source_digest() -> str:
    """Hash of every Python file of the installed spyralflow package (relative path and bytes)."""
    package = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        digest.update(str(path.relative_to(package)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def package_cache_folder() -> Path:
    """The numba cache of this spyralflow version: ``<cache root>/numba/spyralflow-<digest>``.

    Keyed by the digest of every source file of the package (``package_source_digest``), so an
    edit of any module, a callee in another module included, gives a fresh folder.
    """
    return cache_root().resolve() / "numba" / f"spyralflow-{package_source_digest()}"


def use_package_cache() -> None:
    """Point this process's numba at ``package_cache_folder()``, the phase jobs' own folder.

    For code that runs kernels in its own process (the tests, the benchmarks that call phases
    directly): they then share compiled kernels with the jobs. Call it before numba is imported;
    a ``NUMBA_CACHE_DIR`` already set is respected. The variable is removed again once numba has
    read it, so that subprocesses (a foreign phase's jobs) still choose their own cache.
    """
    if os.environ.get("NUMBA_CACHE_DIR"):
        return
    os.environ["NUMBA_CACHE_DIR"] = str(package_cache_folder())
    try:
        import numba  # noqa: F401  (reads NUMBA_CACHE_DIR once, at its import)
    finally:
        del os.environ["NUMBA_CACHE_DIR"]
