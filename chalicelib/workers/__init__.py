"""Logic of the stream, queue and schedule handlers."""
