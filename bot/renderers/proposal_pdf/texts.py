"""The layout's own texts, in Russian and English (a document has its own handful of labels;
chat messages use the gettext catalogues)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, Literal

Locale = Literal["ru", "en"]


LOCALES: tuple[Locale, ...] = ("ru", "en")


TEXTS: Final[Mapping[Locale, Mapping[str, str]]] = {
    "ru": {
        "title": "Коммерческое предложение № {number}",
        "for": "Для",
        "date": "Дата",
        "arguments": "Что вы получите",
        "cost_saved": "Снижение затрат",
        "time_saved": "Экономия времени",
        "revenue_gained": "Рост выручки",
        "calculation": "Расчёт экономического эффекта",
        "calculation_intro": (
            "Расчёт по вашим данным: сколько времени команда тратит на ручную работу "
            "и сколько из него вернёт решение."
        ),
        "team_size": "Сотрудников, занятых ручной работой",
        "hours_lost_weekly": "Часов ручной работы в неделю на сотрудника",
        "hourly_cost": "Стоимость часа работы сотрудника",
        "recovered_share": "Доля времени, которую возвращает решение",
        "weeks_per_year": "Рабочих недель в году",
        "hours_saved_yearly": "Часов сэкономлено за год",
        "annual_saving": "Экономия за год",
        "monthly_saving": "Экономия в месяц",
        "payback_months": "Срок окупаемости",
        "first_year_net": "Чистый эффект за первый год",
        "formula": (
            "Часы за год = сотрудники × часы в неделю × недели в году × доля возвращённого "
            "времени. Экономия за год = часы за год × стоимость часа. Окупаемость = стоимость "
            "решения / экономия в месяц. Чистый эффект = экономия за год − стоимость решения."
        ),
        "stories": "Результаты наших клиентов",
        "price": "Стоимость",
        "manager": "Ваш менеджер",
        "closing": (
            "Расчёт сделан по вашим цифрам: если они изменятся, пересчитаем предложение. "
            "Будем рады ответить на вопросы и обсудить следующий шаг."
        ),
        "people": "{value} чел.",
        "hours": "{value} ч",
        "months": "{value} мес.",
        "weeks": "{value} нед.",
        "percent": "{value} %",
        "no_payback": "не окупается при этих данных",
        "page": "стр. {page} из {pages}",
        "decimal_mark": ",",
        "ruble_fallback": "руб.",
        "months_genitive": (
            "января февраля марта апреля мая июня июля августа сентября октября ноября декабря"
        ),
        "date_format": "{day} {month} {year} г.",
    },
    "en": {
        "title": "Commercial proposal No. {number}",
        "for": "For",
        "date": "Date",
        "arguments": "What you get",
        "cost_saved": "Lower costs",
        "time_saved": "Time saved",
        "revenue_gained": "More revenue",
        "calculation": "Economic effect",
        "calculation_intro": (
            "Calculated from your figures: how much time the team spends on manual work "
            "and how much of it the solution gives back."
        ),
        "team_size": "People doing manual work",
        "hours_lost_weekly": "Hours of manual work per person a week",
        "hourly_cost": "Cost of one working hour",
        "recovered_share": "Share of that time the solution gives back",
        "weeks_per_year": "Working weeks a year",
        "hours_saved_yearly": "Hours saved a year",
        "annual_saving": "Saving a year",
        "monthly_saving": "Saving a month",
        "payback_months": "Payback period",
        "first_year_net": "Net effect in the first year",
        "formula": (
            "Hours a year = people × hours a week × weeks a year × share given back. "
            "Saving a year = hours a year × cost of an hour. Payback = price / saving a month. "
            "Net effect = saving a year − price."
        ),
        "stories": "Our clients' results",
        "price": "Price",
        "manager": "Your manager",
        "closing": (
            "The calculation uses your figures: if they change, we will recalculate the "
            "proposal. We will be glad to answer your questions and agree on the next step."
        ),
        "people": "{value}",
        "hours": "{value} h",
        "months": "{value} months",
        "weeks": "{value}",
        "percent": "{value}%",
        "no_payback": "no payback with these figures",
        "page": "page {page} of {pages}",
        "decimal_mark": ".",
        "ruble_fallback": "RUB",
        "months_genitive": (
            "January February March April May June July August September October November December"
        ),
        "date_format": "{day} {month} {year}",
    },
}
