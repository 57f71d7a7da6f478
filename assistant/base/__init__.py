"""The base layer: errors, settings, limits, private files, YAML with line numbers, text
normalisation, the clock and the schedule, crisis contacts, and the language rules (:mod:`.lang`).
Everything else may import it; it imports nothing of the assistant above it."""
