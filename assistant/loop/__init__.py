"""The hands-free voice loop: wake phrase, listening, barge-in, answering aloud."""
