// KernelsTests: tests land here.
