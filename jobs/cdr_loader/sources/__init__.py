"""CDR sources, one module each; all speak `base.CdrSource`."""
