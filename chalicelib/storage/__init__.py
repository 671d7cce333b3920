"""The only package that talks to DynamoDB (through PynamoDB)."""
