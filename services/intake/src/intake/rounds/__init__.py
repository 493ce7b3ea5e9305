"""A region's rounds: the proposal window, the milestones after it, and the clock that announces them."""
