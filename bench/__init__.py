"""python -m starviz bench: the benchmark suites, kept out of the product package.

``bench.core`` keeps the books (results, targets, child processes, docs/PERFORMANCE.md);
``bench.suites`` holds the suites and ``main``; ``bench.loadtest`` drives Chromium sessions.
"""
