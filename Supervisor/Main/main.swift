print("pipeline: not built yet")
