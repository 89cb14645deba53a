"""Write the alert sounds ``sev1.wav`` … ``sev4.wav``: ``python resources/sounds/generate.py``.

Generated rather than recorded, so the sounds are reproducible and carry no
licence question. Each severity has its own rhythm as well as its own pitch,
so they can be told apart without seeing the screen: SEV-1 three urgent
two-tone bursts, SEV-2 two beeps, SEV-3 one beep, SEV-4 one soft low tone.
"""

from __future__ import annotations

import math
import struct
import wave
from pathlib import Path

RATE = 22_050
FADE_S = 0.01  # short fades so the tones start and stop without a click

# severity → (frequencies mixed per burst, burst length s, gap s, bursts, loudness 0..1)
PATTERNS: dict[int, tuple[tuple[float, ...], float, float, int, float]] = {
    1: ((880.0, 1320.0), 0.16, 0.08, 3, 0.8),
    2: ((660.0,), 0.18, 0.12, 2, 0.7),
    3: ((523.25,), 0.22, 0.0, 1, 0.6),
    4: ((440.0,), 0.25, 0.0, 1, 0.35),
}


def samples(
    freqs: tuple[float, ...], length: float, gap: float, bursts: int, level: float
) -> bytes:
    """16-bit little-endian mono PCM for one pattern."""
    frames = bytearray()
    burst_n = int(RATE * length)
    fade_n = int(RATE * FADE_S)
    for burst in range(bursts):
        for i in range(burst_n):
            envelope = min(1.0, i / fade_n, (burst_n - i) / fade_n)
            value = sum(math.sin(2 * math.pi * f * i / RATE) for f in freqs) / len(freqs)
            frames += struct.pack("<h", int(value * envelope * level * 32_000))
        if burst < bursts - 1:
            frames += b"\0\0" * int(RATE * gap)
    return bytes(frames)


def main() -> None:
    folder = Path(__file__).resolve().parent
    for severity, pattern in PATTERNS.items():
        with wave.open(str(folder / f"sev{severity}.wav"), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(RATE)
            out.writeframes(samples(*pattern))


if __name__ == "__main__":
    main()
