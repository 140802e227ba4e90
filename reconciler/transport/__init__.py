"""HTTP plumbing shared by providers and the GitHub client: retries, rate limits, redaction, safe XML."""
