// ConfigTests: tests land here.
