"""Runs every integration test file (tests/integration/test_*.py) against a real server.

Usage: /usr/bin/python3 tests/integration/run_all.py [-v] [pattern]
Exit code 0 only when every test passed. The last line is 'N passed, N failed, N skipped'."""

import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


def main():
    args = [a for a in sys.argv[1:] if a != "-v"]
    pattern = args[0] if args else "test_*.py"
    suite = unittest.TestLoader().discover(HERE, pattern=pattern, top_level_dir=HERE)
    result = unittest.TextTestRunner(verbosity=2, stream=sys.stderr).run(suite)
    def tid(t):
        return getattr(t, "test_case", t).id()
    bad = {tid(t) for t, _ in result.failures + result.errors + [(t, None) for t in result.unexpectedSuccesses]}
    failed = len(bad)
    skipped = len(result.skipped)
    passed = result.testsRun - failed - skipped
    sys.stdout.write("%d passed, %d failed, %d skipped\n" % (max(passed, 0), failed, skipped))
    sys.stdout.flush()
    sys.exit(0 if result.wasSuccessful() else 1)


if __name__ == "__main__":
    main()
