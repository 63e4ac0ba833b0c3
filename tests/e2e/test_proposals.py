"""A commercial proposal from the deal card through the fake Bot API: the manager is asked only the
missing figures (bad ones explained), sees the PDF, sends it; the client receives the very file,
the deal's history and activities keep it, and the proposal stage's criterion is ticked."""

from __future__ import annotations

import io
import unicodedata

from pypdf import PdfReader
from sqlalchemy import select, update

from bot.app import Application
from bot.telegram.callbacks import ProposalAction, ProposalStep
from domain.clock import FixedClock
from storage.models import ActivityRow, DealRow, ProposalFigureRow
from tests.e2e.scenario import a_taken_deal, deal_messages, join_team, leave_request
from tests.fake_telegram import FakeTelegram, FakeUser


def pdf_text(data: bytes) -> str:
    """The PDF's text with Unicode spaces (thin, no-break) as plain ones."""
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    return "".join(" " if unicodedata.category(char) == "Zs" else char for char in text)


async def test_a_manager_sends_a_proposal_and_the_client_gets_the_pdf(
    tg: FakeTelegram, app: Application, admin: FakeUser, clock: FixedClock
) -> None:
    ivan = await join_team(tg, admin, "Менеджер", "Иван")
    petr = await join_team(tg, admin, "Менеджер", "Пётр")
    anna = tg.user("Анна")
    await leave_request(anna, company="ООО Ромашка")  # implementation, mid-size: Ivan's
    await ivan.press("✅ Взять в работу")
    # Arrange: the deal is at the proposal stage (walking it there is test_workspace's job).
    async with app.session_factory() as session:
        await session.execute(
            update(DealRow).values(stage_id="proposal", stage_entered_at=clock.now())
        )
        await session.commit()

    await ivan.send("/deal 1")
    await ivan.press("🧾 Составить КП")
    asked = [await ivan.wait_message(contains="цифра 1 из 3")]
    await ivan.send_sticker()
    await ivan.wait_message(contains="Нужен текст. Напишите ответ сообщением или нажмите /cancel")
    await ivan.send("-5")
    await ivan.wait_message(contains="Нужно число больше нуля: от 1 до 10 000")
    await ivan.send("250000")
    await ivan.wait_message(contains="Слишком много: нужно от 1 до 10 000")
    assert tg.message(ivan.id, asked[0].message_id).button_texts == ["Отмена"]  # still asked
    await ivan.send("25")
    asked.append(await ivan.wait_message(contains="Сколько часов в неделю"))
    await ivan.send("6")
    asked.append(await ivan.wait_message(contains="Сколько стоит клиенту час"))
    await ivan.send("900")

    # 25 people x 6 h x 48 weeks x 0.4 recovered = 2,880 h; x 900 = 2,592,000 a year, 216,000 a
    # month; the 1,200,000 price pays back in 5.6 months.
    preview = await ivan.wait_message(kind="document")
    # Each answered question lost its "Отмена": it would only be stale.
    assert [tg.message(ivan.id, q.message_id).button_texts for q in asked] == [[], [], []]
    assert preview.text == (
        "📄 КП по сделке №1 для Анна: экономия 2 592 000 RUB в год, окупаемость 5,6 мес. "
        "Проверьте файл и отправьте клиенту."
    )
    [upload] = [
        file
        for call in tg.calls_to("sendDocument", chat_id=ivan.id)
        for file in call.files.values()
    ]
    assert upload.filename == "proposal_1.pdf"
    text = pdf_text(upload.data)
    for figure in ("2 880 ч", "2 592 000 ₽", "216 000 ₽", "5,6 мес.", "Анна", "ООО Ромашка"):
        assert figure in text, figure

    forged = await petr.press_data(ProposalAction(deal_id=1, step=ProposalStep.SEND).pack())
    assert forged is not None and "другому менеджеру" in (forged.text or "")
    assert not tg.calls_to("sendDocument", chat_id=anna.id)

    send = preview.button("📨 Отправить клиенту").callback_data
    assert send is not None
    for _ in range(2):  # a double tap: the client gets one
        await ivan.press_data(send, message_id=preview.message_id, wait_answer=False)
    received = await anna.wait_message(kind="document")
    assert received.text == "Коммерческое предложение от ООО «Ясная CRM»"
    assert received.file_id == preview.file_id  # the very file the manager saw
    await ivan.wait_message(contains="✅ КП по сделке №1 отправлено клиенту")

    await tg.settle()
    assert len(tg.calls_to("sendDocument", chat_id=anna.id)) == 1
    [out] = [m for m in await deal_messages(app, 1) if m.direction == "out"]
    assert (out.kind, out.text) == ("document", "Коммерческое предложение от ООО «Ясная CRM»")
    async with app.session_factory() as session:
        activities = list(await session.scalars(select(ActivityRow)))
        figures = dict(
            (await session.execute(select(ProposalFigureRow.input_id, ProposalFigureRow.value)))
            .tuples()
            .all()
        )
    assert [(a.kind, a.author_id) for a in activities] == [("proposal", ivan.id)]
    assert "экономия 2 592 000 RUB в год" in (activities[0].comment or "")
    assert figures == {"team_size": 25, "hours_lost_weekly": 6, "hourly_cost": 900}

    # The proposal stage's "КП отправлено клиенту" is ticked by the sent proposal.
    await ivan.send("/deal 1")
    await ivan.wait_message(contains="Сделка №1")
    await ivan.press("➡️ Следующий этап")
    checklist = await ivan.wait_message(contains="отметьте критерии этапа «Коммерческое")
    assert "☑️ КП отправлено клиенту" in checklist.button_texts
    assert "⬜️ Клиент подтвердил получение, назначена дата обсуждения" in checklist.button_texts

    # A second proposal asks nothing: the figures are kept on the deal. A double tap: one PDF.
    await ivan.send("/deal 1")
    card = await ivan.wait_message(with_button="🧾 Составить КП")
    make = card.button("🧾 Составить КП").callback_data
    assert make is not None
    previews = len(tg.calls_to("sendDocument", chat_id=ivan.id))
    for _ in range(2):
        await ivan.press_data(make, message_id=card.message_id, wait_answer=False)
    again = await ivan.wait_message(kind="document")
    assert "экономия 2 592 000 RUB" in again.text
    await tg.settle()
    assert len(tg.calls_to("sendDocument", chat_id=ivan.id)) == previews + 1


async def test_the_figures_are_left_with_cancel_like_any_question_on_the_card(
    tg: FakeTelegram, app: Application, admin: FakeUser
) -> None:
    ivan, _ = await a_taken_deal(tg, admin)
    await ivan.press("🧾 Составить КП")
    asked = await ivan.wait_message(contains="цифра 1 из 3")
    assert asked.button_texts == ["Отмена"]

    await ivan.press("Отмена", message_id=asked.message_id)
    await ivan.wait_message(contains="Сделка №1 · Анна")
    await ivan.send("25")  # no longer read as the first figure
    await tg.settle()
    assert "Сколько часов в неделю" not in ivan.last_message.text
    async with app.session_factory() as session:
        assert list(await session.scalars(select(ProposalFigureRow))) == []
