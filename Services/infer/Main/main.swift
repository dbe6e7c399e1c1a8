print("infer: not built yet")
