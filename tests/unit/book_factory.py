"""A small sales book built in Python, so domain tests do not depend on the shipped YAML book.

`book_data()` returns plain data (as YAML would produce); tests change what they need and call
`make_book(data)`. The pipeline `b2b` has four stages with two, one, one and one exit criteria.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from domain.book_qualification import QualificationFramework
from domain.book_working_hours import WorkingHours
from domain.sales_book import Pipeline, SalesBook


def working_hours_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "timezone": "Europe/Moscow",
        "start": dt.time(9, 0),
        "end": dt.time(18, 0),
        "weekdays": [1, 2, 3, 4, 5],
        "holidays_country": "RU",
        "extra_days_off": [],
        "extra_working_days": [],
    }
    data.update(overrides)
    return data


def book_data() -> dict[str, Any]:
    def stage(
        stage_id: str, criteria: list[str], sla_hours: float, probability: float
    ) -> dict[str, Any]:
        return {
            "id": stage_id,
            "name": stage_id.capitalize(),
            "exit_criteria": criteria,
            "target_conversion": 0.5,
            "sla_hours": sla_hours,
            "probability": probability,
        }

    return {
        "company": "Test Co",
        "currency": "RUB",
        "products": [{"id": "crm", "name": "CRM"}],
        "segments": [{"id": "smb", "name": "Small business"}],
        "pipelines": [
            {
                "id": "b2b",
                "name": "B2B",
                "product": "crm",
                "segment": "smb",
                "stages": [
                    stage("request", ["Need recorded", "Contact confirmed"], 2, 0.05),
                    stage("qualification", ["Budget known"], 8, 0.2),
                    stage("proposal", ["Proposal sent"], 16, 0.5),
                    stage("invoice", ["Invoice sent"], 24, 0.8),
                ],
                "key_stage": "proposal",
            }
        ],
        "first_response_minutes": 30,
        "working_hours": working_hours_data(),
        "qualification": [
            {
                "id": "bant",
                "name": "BANT",
                "questions": [
                    {
                        "id": "budget",
                        "text": "Budget?",
                        "options": [
                            {"text": "None", "points": 0},
                            {"text": "Some", "points": 1},
                            {"text": "Approved", "points": 3},
                        ],
                    },
                    {
                        "id": "authority",
                        "text": "Decision maker?",
                        "options": [
                            {"text": "No", "points": 0},
                            {"text": "Yes", "points": 2},
                        ],
                    },
                    {
                        "id": "need",
                        "text": "Need?",
                        "options": [
                            {"text": "Vague", "points": 0},
                            {"text": "Clear", "points": 2},
                        ],
                    },
                ],
                "thresholds": {"mql": 2, "sql": 5},
            }
        ],
        "lost_reasons": [
            {"id": "price", "name": "Too expensive"},
            {"id": "competitor", "name": "Chose a competitor"},
        ],
        "sources": [{"id": "site", "name": "Web site"}],
        "kpis": ["new_leads"],
        "plan": {"monthly_revenue": Decimal("1000000")},
        "digest": {"time": dt.time(9, 0)},
        "consent": {"version": "v1", "text": "I agree to the processing of my data."},
    }


def make_book(data: dict[str, Any] | None = None) -> SalesBook:
    return SalesBook.model_validate(book_data() if data is None else data)


def make_pipeline() -> Pipeline:
    return make_book().pipelines[0]


def make_framework() -> QualificationFramework:
    return make_book().qualification[0]


def make_working_hours(**overrides: Any) -> WorkingHours:
    return WorkingHours.model_validate(working_hours_data(**overrides))
