// IngestTests: tests land here.
