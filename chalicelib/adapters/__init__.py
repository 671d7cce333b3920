"""One small Protocol and its implementations per outside service."""
