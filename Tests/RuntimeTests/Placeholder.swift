// RuntimeTests: tests land here.
