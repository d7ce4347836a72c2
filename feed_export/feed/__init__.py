"""Feed files: reading and writing tables (CSV, TSV, XLSX) and the header grammar; no PIM."""
