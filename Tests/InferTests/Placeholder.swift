// InferTests: tests land here.
