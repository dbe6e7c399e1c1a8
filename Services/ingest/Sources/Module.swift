// ingest stage library: sources land here.
