"""Pure domain logic: no boto3, pynamodb or chalice here."""
