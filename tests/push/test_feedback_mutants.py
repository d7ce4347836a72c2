"""The feedback writer: cases that mutation testing found unguarded (bench/mutation.py feedback)."""
