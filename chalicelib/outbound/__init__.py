"""The outbound core: placing calls with Connect, once per attempt, at the account's pace."""
