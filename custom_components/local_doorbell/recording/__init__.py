"""Recording: ingest, clip writing, the clip library and retention; no Home Assistant imports."""
