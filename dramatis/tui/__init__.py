"""`dramatis chat`: a Textual app where a person joins a scene as a participant."""
