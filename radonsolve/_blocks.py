"""Row blocks for evaluations over samples, so that memory does not grow with N.

Any N x K temporary (activations of K neurons, atoms at K biases) is built one block of rows
at a time; the block height is chosen so that a block holds about ``max_elements`` numbers.
"""

__all__ = ["row_blocks", "BLOCK_ELEMENTS"]

# 2**20 float64 numbers: 8 MiB per temporary, a few of which can be alive at once.
BLOCK_ELEMENTS = 1 << 20


def row_blocks(n_rows, width, max_elements=BLOCK_ELEMENTS):
    """Slices covering ``range(n_rows)`` whose blocks hold at most ``max_elements`` numbers.

    Parameters
    ----------
    n_rows : int
        Number of rows (samples) to cover.
    width : int
        Number of columns of the temporaries built per row (neurons, atoms, outputs).
    max_elements : int, default=BLOCK_ELEMENTS
        Budget of numbers per block temporary.

    Returns
    -------
    list of slice
        Consecutive slices; a single slice when everything fits in one block.

    Examples
    --------
    >>> row_blocks(10, 4, max_elements=16)
    [slice(0, 4, None), slice(4, 8, None), slice(8, 10, None)]
    """
    height = max(1, int(max_elements) // max(1, int(width)))
    return [slice(i, min(i + height, n_rows)) for i in range(0, n_rows, height)] or [slice(0, 0)]
