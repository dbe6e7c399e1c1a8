// featurize stage library: sources land here.
