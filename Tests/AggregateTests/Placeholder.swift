// AggregateTests: tests land here.
