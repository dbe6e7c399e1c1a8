// infer stage library: sources land here.
