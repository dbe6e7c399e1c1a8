// Messages module: sources land here.
