"""Language rules, one module per language (:mod:`.en`)."""
