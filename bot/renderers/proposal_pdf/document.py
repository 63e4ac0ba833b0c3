"""What one proposal shows: the seller, the template, the client, the figures."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from domain.book_proposals import ProposalTemplate
from domain.proposal import EconomicEffect, economic_effect
from domain.sales_book import SalesBook


@dataclass(frozen=True)
class ProposalDocument:
    """Everything one proposal shows. `effect` carries the manager's inputs with the results,
    so the table can never show figures the results were not computed from."""

    company: str
    """The seller, from the sales book."""
    template: ProposalTemplate
    client_name: str
    client_company: str | None
    deal_number: int
    manager_name: str
    date: dt.date
    effect: EconomicEffect
    currency: str
    """The book's currency code, e.g. RUB."""

    @classmethod
    def for_deal(
        cls,
        book: SalesBook,
        template: ProposalTemplate,
        inputs: Mapping[str, Decimal],
        *,
        client_name: str,
        client_company: str | None,
        deal_number: int,
        manager_name: str,
        date: dt.date,
    ) -> ProposalDocument:
        """A proposal from the book's template and the manager's inputs; raises
        ProposalInputsMissing when an input is absent or outside the template's bounds."""
        return cls(
            company=book.company,
            template=template,
            client_name=client_name,
            client_company=client_company,
            deal_number=deal_number,
            manager_name=manager_name,
            date=date,
            effect=economic_effect(template, inputs),
            currency=book.currency,
        )

    @property
    def inputs(self) -> dict[str, Decimal]:
        """The manager's figures, keyed by input id in asking order."""
        return self.effect.inputs
