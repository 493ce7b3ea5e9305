"""Proposals: the form and the API that take them, their public status, and similar questions asked before."""
