"""The long-horizon leaderboard: sweeps of scenario x ranker x seed cells kept in SQLite, scored and published."""
