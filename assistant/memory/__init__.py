"""What the assistant remembers for the person between runs: the state file, the private
journal, and the reflection reminder, with the services that give them to the dialog."""
