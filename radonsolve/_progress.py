"""Progress bars that exist only when asked for and when tqdm is installed.

tqdm is optional: every caller asks for a bar with ``enabled=verbose`` and gets either a real
``tqdm`` bar or a silent stand-in with the same small interface (``update``, ``set_postfix_str``,
``close``, use as a context manager), so no caller needs to know which.
"""

__all__ = ["progress_bar"]


class _NoBar:
    """The silent stand-in: every method does nothing."""

    def update(self, n=1):
        pass

    def set_postfix_str(self, s="", refresh=True):
        pass

    def close(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def progress_bar(total=None, *, desc=None, enabled=True, unit="it"):
    """A tqdm progress bar when ``enabled`` and tqdm can be imported, else a silent one.

    Parameters
    ----------
    total : int or None, default=None
        Expected number of updates (None: unknown).
    desc : str or None, default=None
        Label shown before the bar.
    enabled : bool, default=True
        False gives the silent bar whatever is installed (callers pass ``verbose``).
    unit : str, default="it"

    Returns
    -------
    bar : object with ``update(n)``, ``set_postfix_str(s)``, ``close()`` and the context
        manager protocol.

    Examples
    --------
    >>> with progress_bar(3, desc="fits", enabled=False) as bar:
    ...     for _ in range(3):
    ...         bar.update(1)
    """
    if not enabled:
        return _NoBar()
    try:
        # The plain console bar: tqdm.auto warns in notebooks without ipywidgets.
        from tqdm import tqdm
    except ImportError:
        return _NoBar()
    # leave=False: nested bars (path points inside CV folds, rounds inside a fit) disappear
    # when done instead of stacking up in the terminal.
    return tqdm(total=total, desc=desc, unit=unit, leave=False)
