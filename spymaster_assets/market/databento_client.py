"""The official Databento client, imported without its process-wide warning filter.

`import databento` runs `warnings.simplefilter("always", DeprecationWarning)`: every
DeprecationWarning of every library would then print, in every run that reads a DBN file. The
process's own filters are put back right after the import.
"""

import warnings

_filters = list(warnings.filters)
import databento as db  # noqa: E402
from databento.common.error import BentoWarning  # noqa: E402

warnings.filters[:] = _filters

__all__ = ["BentoWarning", "db"]
