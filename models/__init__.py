"""Model definitions, data readers and build scripts (the ``build`` extra; not shipped)."""
