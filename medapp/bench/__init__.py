"""Micro-benchmarks (``medapp bench``): measured numbers behind the performance targets."""
