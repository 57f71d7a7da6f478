"""Understanding an utterance: the fuzzy matcher over the pack (kept between starts), and
the meaning-based danger probe on the sentence encoder."""
