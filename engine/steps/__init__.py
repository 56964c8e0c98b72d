"""One module per service of the workflow. Each reads top to bottom as the business rule it implements."""
