"""The shoppers: struct-of-arrays state and pure vectorised behaviour (pantry, habits, choice, satisfaction, churn)."""
