"""python -m starviz bench: the benchmark suites, kept out of the product package.

``bench.core`` keeps the books (results, targets, child processes, docs/PERFORMANCE.md);
``bench.suites`` lists the suites and holds ``main``; the suites live by subject in ``data``, ``pages``,
``spend_cube``, ``exports``, ``scale`` and ``concurrency``; ``bench.loadtest`` starts app replicas and
drives Chromium, ``bench.loadgen`` simulates sessions on Streamlit's protocol.
"""
