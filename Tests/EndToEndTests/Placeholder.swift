// EndToEndTests: tests land here.
