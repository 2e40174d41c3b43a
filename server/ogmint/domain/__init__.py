"""The rules of ogmint, one service per noun; the API, the dashboard and the CLI only translate."""
