"""MCP server assembly, transports and the `lifecycle` command-line entry point."""
