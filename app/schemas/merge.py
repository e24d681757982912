"""How a partial write merges over a stored entry: a JSON merge patch, or a CSV row without some columns."""

from collections.abc import Mapping
from typing import Any


def merge_base(stored: Mapping[str, Any], given: Mapping[str, Any]) -> dict[str, Any]:
    """The stored fields a partial write keeps under the fields it gives. A changed kind decides some fields as it
    does on create: a village's `excluded` is derived from the kind again (unless given), and an entry that is no
    longer a team has no members or leader."""
    base = dict(stored)
    if "kind" in given and given["kind"] != stored.get("kind"):
        if "excluded" in base and "excluded" not in given:
            del base["excluded"]
        if given["kind"] != "team" and "members" in base:
            base["members"], base["leader"] = [], None
    return base
