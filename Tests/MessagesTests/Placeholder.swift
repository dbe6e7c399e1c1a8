// MessagesTests: tests land here.
