"""Knowledge needs: the registry's record of what municipalities want to know, built from submitted proposals."""
