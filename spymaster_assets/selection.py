"""Parse `--select` strings: comma-separated asset keys written with '/', with Dagster's
`+` (one level per plus) and `*` (all levels) upstream/downstream markers."""

from __future__ import annotations

import re

import dagster as dg

_TOKEN = re.compile(r"^(?P<up>\*|\++)?(?P<key>[A-Za-z0-9_/\-]+?)(?P<down>\*|\++)?$")


class SelectionError(ValueError):
    pass


def _depth(marker: str | None) -> int | None:
    """None means unlimited ('*'); 0 means no traversal."""
    if marker is None:
        return 0
    return None if marker == "*" else len(marker)


def parse_selection(text: str | None, known: set[dg.AssetKey]) -> dg.AssetSelection:
    if not text:
        return dg.AssetSelection.all()
    selection: dg.AssetSelection | None = None
    for raw in (t.strip() for t in text.split(",")):
        if not raw:
            continue
        match = _TOKEN.match(raw)
        if not match:
            raise SelectionError(f"cannot parse selection item {raw!r}")
        key = dg.AssetKey(match["key"].split("/"))
        if key not in known:
            names = ", ".join(sorted(k.to_user_string() for k in known))
            raise SelectionError(f"unknown asset {match['key']!r}; known assets: {names}")
        item = dg.AssetSelection.assets(key)
        up, down = _depth(match["up"]), _depth(match["down"])
        if up != 0:
            item = item | dg.AssetSelection.assets(key).upstream(depth=up)
        if down != 0:
            item = item | dg.AssetSelection.assets(key).downstream(depth=down)
        selection = item if selection is None else selection | item
    if selection is None:
        raise SelectionError("empty selection")
    return selection
