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


def _content(value):
    """``value`` with each frame replaced by a digest of its content (its pickle differs between a
    frame and its copy: the answer cache hands out copies), dicts in key order."""
    if isinstance(value, pd.DataFrame):
        try:
            digest = hashlib.sha256(pd.util.hash_pandas_object(value, index=True).to_numpy().tobytes()).hexdigest()
        except TypeError:  # cells pandas cannot hash (lists): the pickle, as is
            digest = hashlib.sha256(pickle.dumps(value, protocol=5)).hexdigest()
        return ("frame", digest, tuple(map(str, value.columns)), tuple(map(str, value.dtypes)))
    if isinstance(value, dict):
        return ("dict", sorted(((k, _content(v)) for k, v in value.items()), key=lambda kv: repr(kv[0])))
    if isinstance(value, list | tuple):
        return (type(value).__name__, [_content(v) for v in value])
    return value


def _key(args: tuple, kwargs: dict) -> str:
    return hashlib.sha256(pickle.dumps(_content((args, sorted(kwargs.items()))), protocol=5)).hexdigest()


def per_answer(fn=None, *, copies: bool = True, maxsize: int = 128):
    """``fn`` (a pure function of its arguments) worked out once per content of its arguments.
    ``copies``: each call gets a copy of the result to change as it likes; without, every call
    shares the one result (a figure, which nothing that receives it changes). Arguments that cannot
    be pickled: worked out every time. Used bare (``@per_answer``) or with options."""
    if fn is None:
        return functools.partial(per_answer, copies=copies, maxsize=maxsize)
    held: cachetools.LRUCache = cachetools.LRUCache(maxsize=maxsize)
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
        if not copies:
            return found
        return found.copy() if isinstance(found, pd.DataFrame) else copy.deepcopy(found)

    return wrapper


# --- the KPI page: its scorecard's tables and sentences (~60% of a rerun's server CPU) -------------
scorecard_table = per_answer(narrative.scorecard_table)
scorecard_export = per_answer(narrative.scorecard_export)
changes_compared = per_answer(narrative.changes_compared)
monthly_summary = per_answer(narrative.monthly_summary)
