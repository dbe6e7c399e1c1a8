print("aggregate: not built yet")
