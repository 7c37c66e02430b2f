"""Pipeline 2: home country of social-media users from HyperLogLog user-day aggregates."""
