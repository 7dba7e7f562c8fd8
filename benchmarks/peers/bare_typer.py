"""The floor for `lifecycle --help`: a bare typer program with two commands (typer and rich, nothing else)."""

import typer

app = typer.Typer(add_completion=False)


@app.command()
def hello(name: str = typer.Option("world", help="Who to greet.")) -> None:
    """Print a greeting."""
    typer.echo(f"hello {name}")


@app.command()
def bye() -> None:
    """Print a farewell."""
    typer.echo("bye")


if __name__ == "__main__":
    app()
