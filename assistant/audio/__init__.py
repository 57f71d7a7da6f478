"""Sound: the microphone and the speaker, WAV files and resampling, finding utterances in
a stream, and removing the assistant's own voice from the microphone."""
