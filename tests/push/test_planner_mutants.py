"""The planner: cases that mutation testing found unguarded (bench/mutation.py planner)."""
