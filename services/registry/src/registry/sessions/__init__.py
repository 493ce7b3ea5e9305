"""Sessions: the dev login with demo users, and who the caller is."""
