"""``make bench``: run every benchmark and write docs/PERFORMANCE.md."""
from benchmarks.run import main

raise SystemExit(main())
