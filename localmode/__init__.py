"""Local mode: an embedded DynamoDB-compatible server (moto) with a write journal, and the runner."""
