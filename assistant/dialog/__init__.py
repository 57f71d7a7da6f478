"""The dialog: what to say next, given what was heard and what came before (:mod:`.manager`)."""
