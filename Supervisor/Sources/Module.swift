// Supervisor library: sources land here.
