"""Pieces of ``benchmarks/bench_speed.py``: measuring (``measure``), the datasets (``datasets``), the peers'
programs (``benchmarks/peers``) and one module per family of cases."""
