"""The application core: :class:`~.assistant.Assistant`, built once from settings, with
typed operations for every front end; the session builder, the pack checks and the service unit."""
