"""`lifecycle schema`: print the canonical data model."""

from __future__ import annotations

import typer

from lifecycle.schema import data_model_markdown
from server.commands.root import app


@app.command("schema")
def schema_command(markdown: bool = typer.Option(True, "--markdown/--plain", help="Print as Markdown (docs/data-model.md).")) -> None:
    """Print the canonical data model (tables, columns, kinds, meanings)."""
    typer.echo(data_model_markdown())
