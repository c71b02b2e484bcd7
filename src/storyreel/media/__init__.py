"""Media assembly: pure timeline, ffmpeg argv builders and runner, subtitles, audio, probing."""
