"""Stage 2, the cube: the aggregates every analysis reads, what the data can support, and the cache.

Enters: clean canonical lines (:class:`salesbook.data.load.Sales`, an ibis table on DuckDB, Spark or a
warehouse). Leaves: a :class:`Cube` of pandas tables (client x month, client x category x month,
client x manager x month, ...), its :attr:`Cube.profile` (:mod:`salesbook.cube.profile`: the months it
covers, the columns it has, the evidence each claim needs), cached on disk by content digest; and
:func:`salesbook.cube.memo.per_cube`, which keeps an analysis's result beside the cached cube.

Imports from: the foundation (errors, paths, i18n, formats) and :mod:`salesbook.data`.
"""

from salesbook.cube.build import (COLUMNS, CUBE_VERSION, TABLES, Cube, build_cube, content_digest,  # noqa: F401
                                  cube_expressions, get_cube, median_gaps)

__all__ = ["Cube", "build_cube", "get_cube", "content_digest", "cube_expressions", "median_gaps", "TABLES",
           "CUBE_VERSION", "COLUMNS"]
