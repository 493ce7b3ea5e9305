"""A round's candidates: the proposals the committee can score, kept from intake's events."""
