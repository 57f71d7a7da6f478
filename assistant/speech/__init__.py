"""Speech engines: recognisers (:mod:`.stt`), voices (:mod:`.tts`), and the models they
use (:mod:`.models`), each kind behind a small registry."""
