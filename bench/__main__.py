"""``python -m bench`` (``make bench``): the status-sync benchmarks. See ``bench/run.py``."""

from __future__ import annotations

from bench.run import main

if __name__ == "__main__":
    raise SystemExit(main())
