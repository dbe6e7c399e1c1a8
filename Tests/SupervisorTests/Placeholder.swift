// SupervisorTests: tests land here.
