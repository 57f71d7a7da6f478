"""The intent pack: YAML files -> intents, example templates and their expansion, slot
lists, content words, candidate selection, and the reflective prompts."""
