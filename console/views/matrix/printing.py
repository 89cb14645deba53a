"""The escalation matrix on paper: the chain and the binder as HTML, and the binder printed.

:func:`chain_html` is one service's whole chain (the matrix's side pane and the
``c`` dialog show it); :func:`binder_html` is every service's chain now, the
rotas of the next weeks and every contact, for the binder on the desk;
:func:`print_binder` lays it out on a printer or a PDF, A4 landscape. The HTML
is plain text built from the directory (no widget), so it is tested as text.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from datetime import datetime, timedelta, tzinfo

from PySide6.QtCore import (
    QMarginsF,
)
from PySide6.QtGui import (
    QFont,
    QPagedPaintDevice,
    QPageLayout,
    QPageSize,
    QTextDocument,
)

from console.domain.escalation import format_duration
from console.domain.oncall import shifts_between
from console.domain.phones import format_phone, tel_uri
from console.domain.severity import Severity
from console.domain.text import clock_text
from console.models.escalation_matrix import (
    local_time_text,
    on_call_label,
    phone_text,
    when_text,
)
from console.services.directory import (
    Directory,
    ManagerLine,
    OnCall,
    ServiceChain,
    Source,
    fold,
)

BINDER_WEEKS = 4
"""How many weeks of rota the printed binder lists (it must stay useful until reprinted)."""

_CHANNELS = {
    "email": "e-mail",
    "sms": "SMS",
    "phone": "phone",
    "chat": "chat",
    "status_page": "status page",
    "webhook": "webhook",
}


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _phone_link(e164: str | None, region: str | None) -> str:
    if not e164:
        return ""
    return f'<a href="{_e(tel_uri(e164))}">{_e(phone_text(e164, region))}</a>'


def _when_rule(line: ManagerLine) -> str:
    rule = line.rule
    codes = ", ".join(s.code for s in sorted(rule.severities))
    parts = []
    if rule.after is not None:
        parts.append(
            "at once" if rule.after <= timedelta(0) else f"after {format_duration(rule.after)}"
        )
    if rule.at_sla_fraction is not None:
        parts.append(f"at {round(rule.at_sla_fraction * 100)} % of the SLA")
    return f"{codes} {' or '.join(parts)}"


def _person_html(who: OnCall, region: str | None) -> str:
    contact = who.contact
    if contact is None:
        if who.contact_id:
            return f"⚠ {_e(who.contact_id)} (not in the contact list)"
        return f"⚠ nobody on call{(': ' + _e(who.problem)) if who.problem else ''}"
    text = f"<b>{_e(on_call_label(who))}</b>"
    if contact.role:
        text += f" — {_e(contact.role)}"
    phones = f"☎ {_phone_link(contact.primary_phone, region)}"
    if contact.alternate_phone:
        phones += f" · alternate {_phone_link(contact.alternate_phone, region)}"
    return f"{text}<br>{phones}"


def chain_html(
    chain: ServiceChain,
    directory: Directory,
    *,
    region: str | None,
    zone: tzinfo,
) -> str:
    """The selected service's whole chain, as the detail pane shows it (``tel:`` links)."""
    service, at = chain.service, chain.at
    out = [f"<h2>{_e(service.name)}</h2>"]
    owner = chain.owner.name if chain.owner is not None else (service.owner_team or "nobody")
    facts = [f"<b>{_e(service.criticality.title())}</b> criticality", f"owned by {_e(owner)}"]
    if chain.owner is not None and chain.owner.email:
        facts.append(f'<a href="mailto:{_e(chain.owner.email)}">{_e(chain.owner.email)}</a>')
    out.append(f"<p>{' · '.join(facts)}</p>")
    if service.description:
        out.append(f"<p><i>{_e(service.description)}</i></p>")
    if chain.policy is None:
        out.append(
            f"<p>⚠ {_e(chain.problem or 'no escalation policy')}. Ask the service owner.</p>"
        )
        return "\n".join(out)

    out.append("<h3>Who to call — functional escalation</h3>")
    out.append('<table cellspacing="0" cellpadding="4" width="100%">')
    for line in chain.tiers:
        who = line.on_call
        team = line.team.name if line.team is not None else line.tier.team
        delay = line.tier.engage_after
        engage = "at once" if delay <= timedelta(0) else f"after {format_duration(delay)}"
        notes = []
        if who.via is not None and who.note:
            notes.append(f"{who.via.value}: {_e(who.note)}")
        if who.until is not None:
            notes.append(f"until {_e(when_text(who.until, zone, at))}")
        if who.next_shift is not None:
            following = who.next_contact.name if who.next_contact else who.next_contact_id
            phone = who.next_contact.primary_phone if who.next_contact else None
            link = f" {_phone_link(phone, region)}" if phone else ""
            start = _e(when_text(who.next_shift.start, zone, at))
            notes.append(f"next <b>{_e(following)}</b>{link} from {start}")
        if who.source == Source.CONTACT:
            notes.append("fixed contact, no rotation")
        if who.contact is not None and who.contact.time_zone:
            notes.append(f"their time {_e(local_time_text(who.contact.time_zone, at))}")
        out.append(
            "<tr>"
            f'<td valign="top" width="28%"><b>{_e(line.tier.name)}</b><br>'
            f"<small>{_e(team)}<br>engaged {engage}</small></td>"
            f'<td valign="top">{_person_html(who, region)}'
            + (f"<br><small>{'<br>'.join(notes)}</small>" if notes else "")
            + "</td></tr>"
        )
    out.append("</table>")

    if chain.managers:
        out.append("<h3>Managers — hierarchical escalation</h3><ul>")
        for label, lines in group_managers(chain.managers, directory):
            who = lines[0].on_call
            when = "; ".join(_when_rule(m) for m in lines)
            if who.source == Source.ROLE:
                person = "(nobody named on file: use the management call tree)"
            else:
                person = _person_html(who, region)
            out.append(
                f"<li><b>{_e(label)}</b>: {person}<br><small>tell at {_e(when)}</small></li>"
            )
        out.append("</ul>")

    updates = chain.updates
    if updates:
        out.append("<h3>Stakeholder updates — communication</h3>")
        out.append('<table cellspacing="0" cellpadding="3" border="1" width="100%">')
        out.append(
            "<tr><th align=left>Group</th>"
            + "".join(f"<th>{s.code}</th>" for s in Severity)
            + "<th align=left>How</th></tr>"
        )
        groups: dict[str, dict[Severity, str]] = {}
        channels: dict[str, str] = {}
        for update in updates:
            every = (
                "at resolution"
                if update.every is None
                else f"every {format_duration(update.every)}"
            )
            groups.setdefault(update.group, {})[update.severity] = every
            how = _CHANNELS.get(update.channel, update.channel)
            channels[update.group] = f"{how}: {update.target}" if update.target else how
        for group, cadence in groups.items():
            cells = "".join(f"<td>{_e(cadence.get(s, '—'))}</td>" for s in Severity)
            out.append(f"<tr><td>{_e(group)}</td>{cells}<td>{_e(channels[group])}</td></tr>")
        out.append("</table>")
    return "\n".join(out)


def group_managers(
    managers: Iterable[ManagerLine], directory: Directory
) -> list[tuple[str, list[ManagerLine]]]:
    """Rules about the same person or role, together: "Duty manager: SEV-1 at once; SEV-2 …"."""
    groups: dict[str, tuple[str, list[ManagerLine]]] = {}
    for line in managers:
        rule = line.rule
        key = rule.rotation_id or rule.who
        if rule.rotation_id is None and rule.who in directory.contacts:
            label = "Service owner's manager"
        else:
            label = rule.who
        groups.setdefault(key, (label, []))[1].append(line)
    return list(groups.values())


def binder_html(directory: Directory, at: datetime, zone: tzinfo, *, demo: bool = False) -> str:
    """The printable matrix: services × tiers with names and numbers, the rotas, every contact.

    Numbers are printed in international form: the paper may be read
    anywhere, and a mobile dials ``+34 …`` from every country.
    """

    def intl(e164: str | None) -> str:
        return format_phone(e164, None) if e164 else ""

    levels = directory.levels
    stamp = clock_text(at, zone, date=True, year=True, show_zone=True)
    out = [
        "<html><body style='font-family: sans-serif; font-size: 8pt'>",
        *(
            ["<h1 style='color:#B45309'>DEMO — made-up data, not a real escalation matrix</h1>"]
            if demo
            else []
        ),
        f"<h2>Escalation matrix — on call as of {_e(stamp)}</h2>",
        "<p>Call L1 first; each tier is engaged after the delay shown. On-call people change "
        "at each rotation's hand-off (see the rotas below). Numbers in international form.</p>",
        '<table border="1" cellspacing="0" cellpadding="3" width="100%">',
        "<tr><th align=left>Service</th><th align=left>Owner</th>"
        + "".join(f"<th align=left>L{n}</th>" for n in range(1, levels + 1))
        + "</tr>",
    ]
    for chain in directory.chains(at):
        cells = []
        for level in range(1, levels + 1):
            line = chain.tier(level)
            if line is None:
                cells.append("<td>—</td>")
                continue
            who = line.on_call
            contact = who.contact
            text = f"<small>{_e(line.tier.name)}</small><br>"
            if contact is None:
                text += "⚠ nobody on call"
            else:
                text += f"<b>{_e(on_call_label(who))}</b><br>{_e(intl(contact.primary_phone))}"
                if contact.alternate_phone:
                    text += f"<br>alt {_e(intl(contact.alternate_phone))}"
            if who.next_shift is not None and who.next_contact is not None:
                start = clock_text(who.next_shift.start, zone, date=True)
                text += f"<br><small>then {_e(who.next_contact.name)} from {_e(start)}</small>"
            cells.append(f"<td valign=top>{text}</td>")
        owner = chain.owner.name if chain.owner else (chain.service.owner_team or "")
        out.append(
            f"<tr><td valign=top><b>{_e(chain.service.name)}</b><br>"
            f"<small>{_e(chain.service.criticality)}</small></td>"
            f"<td valign=top>{_e(owner)}</td>{''.join(cells)}</tr>"
        )
    out.append("</table>")

    out.append(f"<h3>On-call rotas, next {BINDER_WEEKS} weeks</h3>")
    out.append('<table border="1" cellspacing="0" cellpadding="3" width="100%">')
    out.append(
        "<tr><th align=left>Rotation</th><th align=left>Hand-off</th>"
        "<th align=left>Who, from when</th></tr>"
    )
    for schedule in sorted(directory.schedules.values(), key=lambda s: fold(s.name)):
        shifts = shifts_between(
            schedule.rotation, schedule.overrides, at, at + timedelta(weeks=BINDER_WEEKS)
        )
        parts = []
        for shift in shifts:
            contact = directory.contact(shift.contact_id)
            name = contact.name if contact else shift.contact_id
            how = f" ({shift.override_kind.value})" if shift.override_kind else ""
            begin = clock_text(max(shift.start, at), zone, date=True, weekday=False)
            phone = f" {intl(contact.primary_phone)}" if contact else ""
            parts.append(f"{_e(begin)}: <b>{_e(name)}</b>{_e(how)}{_e(phone)}")
        out.append(
            f"<tr><td valign=top>{_e(schedule.name)}</td>"
            f"<td valign=top>{_e(schedule.rotation.describe_handoff())}</td>"
            f"<td>{'<br>'.join(parts)}</td></tr>"
        )
    out.append("</table>")

    out.append("<h3>Contacts</h3>")
    out.append('<table border="1" cellspacing="0" cellpadding="3" width="100%">')
    out.append(
        "<tr><th align=left>Name</th><th align=left>Role</th><th align=left>Team</th>"
        "<th align=left>Phone</th><th align=left>Alternate</th><th align=left>E-mail</th>"
        "<th align=left>Time zone</th></tr>"
    )
    for contact in directory.contacts_sorted():
        out.append(
            f"<tr><td>{_e(contact.name)}</td><td>{_e(contact.role)}</td>"
            f"<td>{_e(directory.team_name(contact.team))}</td>"
            f"<td>{_e(intl(contact.primary_phone))}</td>"
            f"<td>{_e(intl(contact.alternate_phone))}</td>"
            f"<td>{_e(contact.email or '')}</td><td>{_e(contact.time_zone or '')}</td></tr>"
        )
    out.append("</table></body></html>")
    return "\n".join(out)


def print_binder(
    device: QPagedPaintDevice,
    directory: Directory,
    at: datetime,
    zone: tzinfo,
    *,
    demo: bool = False,
) -> None:
    """Lay the binder out on ``device`` (a QPrinter or a QPdfWriter), A4 landscape."""
    device.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
    device.setPageOrientation(QPageLayout.Orientation.Landscape)
    device.setPageMargins(QMarginsF(12, 12, 12, 12), QPageLayout.Unit.Millimeter)
    document = QTextDocument()
    document.setDocumentMargin(0)
    font = QFont()
    font.setPointSizeF(8)
    document.setDefaultFont(font)
    document.setHtml(binder_html(directory, at, zone, demo=demo))
    document.print_(device)
