"""Mission scenarios as data (scenarios/*.toml): schema, stages, goldens, reports."""
