// Runtime module: sources land here.
