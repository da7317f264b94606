"""A small mutation-testing harness for trainrig (`scripts/mutation`); see docs/testing.md."""
