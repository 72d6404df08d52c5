"""Apps of a pod as the user asks for them: command-line parsing into requests, and the pod manifest."""
