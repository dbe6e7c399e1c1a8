print("ingest: not built yet")
