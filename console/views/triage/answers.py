"""Between the wizard's pages and its :class:`TriageAnswers`: read them out, fill them in.

The pages hold what the dispatcher typed and answered; the triage session
(:mod:`console.services.triage`) works on the same as plain values. A
restored draft is filled in by id where the chosen entry is still listed,
else as it was typed.
"""

from __future__ import annotations

from dataclasses import dataclass

from console.services.triage import TriageAnswers
from console.views.triage.before import BeforePage
from console.views.triage.pages import ClassificationPage, ImpactPage, IntakePage, UrgencyPage
from console.views.triage.result import ResultPage


@dataclass(frozen=True)
class Pages:
    """The wizard's six pages, in the order of the call."""

    intake: IntakePage
    classification: ClassificationPage
    impact: ImpactPage
    urgency: UrgencyPage
    result_page: ResultPage
    before: BeforePage


def read_answers(pages: Pages, workaround_applied: str | None) -> TriageAnswers:
    """What the pages hold now (and the known error whose workaround was applied)."""
    intake, classification, impact = pages.intake, pages.classification, pages.impact
    urgency, result_page, before = pages.urgency, pages.result_page, pages.before
    banner = before.banner
    source = intake.source.value()
    return TriageAnswers(
        reporter=intake.reporter.text(),
        contact=intake.contact.text(),
        service=intake.service.text(),
        service_id=intake.service.chosen(),
        title=intake.title_edit.text(),
        details=intake.details.toPlainText(),
        source=None if source is None else str(source),
        category=classification.category.text(),
        category_id=classification.category.chosen(),
        subcategory=classification.subcategory.text(),
        subcategory_id=classification.subcategory.chosen(),
        users=_text(impact.users.value()),
        critical_down=_yes(impact.critical.value()),
        workaround=_text(impact.workaround.value()),
        functions=impact.functions.text(),
        share=impact.share.text(),
        urgency={key: _yes(row.value()) for key, row in urgency.rows.items()},
        overriding=result_page.overriding,
        override=_text(result_page.override_choice.value()),
        override_reason=result_page.override_reason.text(),
        declare_major=_yes(banner.declare.value()),
        commander=banner.commander.text(),
        commander_name=banner.commander_name(),
        workaround_applied=workaround_applied,
    )


def fill_answers(pages: Pages, answers: TriageAnswers) -> None:
    """Fill the pages in from ``answers`` (a restored draft)."""
    intake, classification, impact = pages.intake, pages.classification, pages.impact
    urgency, result_page, before = pages.urgency, pages.result_page, pages.before
    intake.reporter.setText(answers.reporter)
    intake.contact.setText(answers.contact)
    intake.title_edit.setText(answers.title)
    intake.details.setPlainText(answers.details)
    intake.source.set_value(answers.source)
    # By id when the entry is still there (its name may have changed), else as typed.
    for edit, chosen, typed in (
        (intake.service, answers.service_id, answers.service),
        (classification.category, answers.category_id, answers.category),
        (classification.subcategory, answers.subcategory_id, answers.subcategory),
    ):
        if chosen is not None and any(c.id == chosen for c in edit.choices):
            edit.choose(chosen)
        else:
            edit.setText(typed)
            edit.set_choices(edit.choices)
    impact.users.set_value(answers.users)
    impact.critical.set_value(answers.critical_down)
    impact.workaround.set_value(answers.workaround)
    impact.functions.setText(answers.functions)
    impact.share.setText(answers.share)
    for key, row in urgency.rows.items():
        row.set_value(answers.urgency.get(key))
    if answers.overriding:
        result_page.override_form.show()
        result_page.override_choice.set_value(answers.override)
        result_page.override_reason.setText(answers.override_reason)
    banner = before.banner
    banner.declare.set_value(answers.declare_major)
    banner.commander.setText(answers.commander)
    banner.commander.set_choices(banner.commander.choices)
    impact.refresh()
    urgency.refresh()


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _yes(value: object) -> bool | None:
    return value if isinstance(value, bool) else None
