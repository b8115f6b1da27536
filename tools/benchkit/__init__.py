"""The pieces of `make bench` (tools/bench.py): each measures one thing, bounded in time."""
