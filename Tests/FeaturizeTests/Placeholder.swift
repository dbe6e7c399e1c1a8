// FeaturizeTests: tests land here.
