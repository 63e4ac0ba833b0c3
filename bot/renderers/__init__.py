"""Files the bot makes or reads: the proposal PDF, the report spreadsheets, a spend table."""
