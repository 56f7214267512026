"""The `ftadvisor` command: one module per subcommand group, each import-light."""
