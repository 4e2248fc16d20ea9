"""lucid-studio: the interactive session behind a local web page (server, project folder, exports)."""
