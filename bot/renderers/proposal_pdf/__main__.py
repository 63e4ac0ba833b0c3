"""`python -m bot.renderers.proposal_pdf --example FILE`: write an example proposal."""

from bot.renderers.proposal_pdf.example import main

if __name__ == "__main__":
    main()
