"""JSON from outside, read safely: nesting deeper than `MAX_JSON_DEPTH` is refused before parsing.

`json.loads` raises RecursionError (a 500) around 1,000 levels, and deep values trip later code too. No
request of ours nests deeper than a handful of levels.
"""

import json
import re

MAX_JSON_DEPTH = 32
_STRING = re.compile(rb'"(?:[^"\\\\]|\\\\.)*"', re.S)
_KEEP = b"[]{}"
_DROP = bytes(b for b in range(256) if b not in _KEEP)


class JSONTooDeep(ValueError):
    pass


def json_depth(raw: bytes | str) -> int:
    """The deepest nesting of arrays and objects in `raw` (strings are skipped)."""
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "replace")
    skeleton = _STRING.sub(b"", raw).translate(None, _DROP)
    depth = deepest = 0
    for byte in skeleton:
        if byte in b"[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def loads(raw: bytes | str, **kwargs):
    """`json.loads`, but a body nested deeper than MAX_JSON_DEPTH raises JSONTooDeep (a ValueError)."""
    if json_depth(raw) > MAX_JSON_DEPTH:
        raise JSONTooDeep(f"JSON nested deeper than {MAX_JSON_DEPTH} levels.")
    return json.loads(raw, **kwargs)
