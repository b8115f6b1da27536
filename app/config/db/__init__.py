"""PostgreSQL backend that follows RDS's password rotation (ENGINE "config.db"); see base.py."""
