"""The run report: what happened to every row, as text and JSON."""
