"""Where the data lives: the sources the engine reads canonical tables from."""
