// Kernels module: sources land here.
