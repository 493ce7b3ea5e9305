"""Screening: the secretariat's queue and decisions, merges, splits, carry-overs, and the proposer's revision."""
