"""DBN record layouts and constants, taken from the official `databento_dbn` bindings."""

from __future__ import annotations

import databento_dbn
import numpy as np

DATASET = "GLBX.MDP3"
PARENT_SYMBOL = "ES.FUT"
PUBLISHER_GLBX = 1  # Databento publisher id of GLBX.MDP3
PRICE_SCALE = databento_dbn.FIXED_PRICE_SCALE  # fixed-point: 1 unit = 1e-9
UNDEF_PRICE = databento_dbn.UNDEF_PRICE
F_LAST = databento_dbn.F_LAST
F_MAYBE_BAD_BOOK = databento_dbn.F_MAYBE_BAD_BOOK

TRADE_DTYPE = np.dtype(databento_dbn.TradeMsg._dtypes)
MBP10_DTYPE = np.dtype(databento_dbn.MBP10Msg._dtypes)
RTYPE_TRADES = int(databento_dbn.RType.MBP_0.value)
RTYPE_MBP10 = int(databento_dbn.RType.MBP_10.value)

SCHEMA_DTYPES = {"trades": TRADE_DTYPE, "mbp-10": MBP10_DTYPE}
SCHEMA_RTYPES = {"trades": RTYPE_TRADES, "mbp-10": RTYPE_MBP10}
