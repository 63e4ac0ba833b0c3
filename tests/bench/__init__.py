"""Benchmarks, run small: they still measure what they claim to."""
