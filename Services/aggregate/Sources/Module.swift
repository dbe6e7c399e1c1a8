// aggregate stage library: sources land here.
