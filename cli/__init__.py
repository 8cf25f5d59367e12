"""The commands of `main.py`: each module parses its arguments and prints, over the library functions
of the package that owns the operation; every command that touches the bot's data runs inside
`app.open_services`."""
