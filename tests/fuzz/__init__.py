"""Property-based fuzzing of the parsers and of the read API against its OpenAPI document."""
