"""Pure work on an answer done once per answer and shared by reruns and sessions.

A rerun of a page asks the same answers again (from the answer cache of ``queries.db``), and several
people often look at the same view; the pandas work a page then does on an answer (ranking it,
turning it into a table or a paragraph) gives the same result every time. :func:`per_answer` keys a
result by the content of every argument (pickled and hashed: frames with lists in their cells too),
so two users share a result only when they pass the same data, and each caller gets its own copy.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import pickle
import threading

import cachetools
import pandas as pd

from starviz import narrative


def _key(args: tuple, kwargs: dict) -> str:
    return hashlib.sha256(pickle.dumps((args, sorted(kwargs.items())), protocol=5)).hexdigest()


def per_answer(fn):
    """``fn`` (a pure function of its arguments) worked out once per content of its arguments; each
    call gets a copy of the result to change as it likes. Arguments that cannot be pickled: worked
    out every time."""
    held: cachetools.LRUCache = cachetools.LRUCache(maxsize=128)
    lock = threading.Lock()

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            key = _key(args, kwargs)
        except (pickle.PicklingError, TypeError, AttributeError):
            return fn(*args, **kwargs)
        with lock:
            found = held.get(key, held)
        if found is held:
            found = fn(*args, **kwargs)
            with lock:
                held[key] = found
        return found.copy() if isinstance(found, pd.DataFrame) else copy.deepcopy(found)

    return wrapper


# --- the KPI page: its scorecard's tables and sentences (~60% of a rerun's server CPU) -------------
scorecard_table = per_answer(narrative.scorecard_table)
scorecard_export = per_answer(narrative.scorecard_export)
changes_compared = per_answer(narrative.changes_compared)
monthly_summary = per_answer(narrative.monthly_summary)
