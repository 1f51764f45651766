"""The naive baseline: the whole MBP-10 file through `DBNStore.to_df()` (run as a child)."""

from __future__ import annotations

import json
import sys
import time

from spymaster_assets.bench.rss import peak_rss


def main() -> None:
    import databento as db

    path = sys.argv[1]
    started = time.perf_counter()
    frame = db.DBNStore.from_file(path).to_df()
    seconds = time.perf_counter() - started
    json.dump({"seconds": seconds, "rows": len(frame), "peak_rss_bytes": peak_rss()}, sys.stdout)


if __name__ == "__main__":
    main()
