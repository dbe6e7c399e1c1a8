print("featurize: not built yet")
