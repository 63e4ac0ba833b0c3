"""What a person sees: the texts and buttons of each screen, in the current locale."""
