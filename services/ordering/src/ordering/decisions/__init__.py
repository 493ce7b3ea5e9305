"""The steering group's decisions: drafted from the committee's recommended ranking."""
