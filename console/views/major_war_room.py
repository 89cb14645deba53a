"""The major incident workspace's command part: roles, phones and the war room.

Roles are given from the escalation matrix: the on-call person of the
affected service's team is offered for the first unfilled role (Ctrl+Shift+A
accepts, Ctrl+Shift+R picks the role and another person), and each hand-over
is a timeline entry sent through the outbox. Ctrl+Shift+P calls a role
holder (the commander is first), Ctrl+Shift+L sets the bridge, Ctrl+Shift+J
records a responder joining or leaving.

:class:`WarRoomPanel` is the base of :class:`console.views.major_workspace.MajorWorkspace`:
it builds the roles, offer and war-room labels and acts on them; the
workspace supplies the chosen incident (``current()``), the re-read
(``refresh()``) and the message line.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from html import escape as _esc

from PySide6.QtCore import QLocale, Qt
from PySide6.QtWidgets import QDialog, QLabel, QMenu, QWidget

from console.config.settings import MajorSettings
from console.domain.errors import DomainError
from console.domain.major import bridge_tel
from console.domain.phones import format_phone, region_from_locale_name, tel_uri
from console.services.directory import Directory, empty_directory
from console.services.major import (
    MajorSnapshot,
    RoleCandidate,
    next_role_offer,
    role_candidates,
    role_names,
)
from console.store import Cache
from console.sync.edits import LocalEdits


class WarRoomPanel(QWidget):
    """Roles offered from the escalation matrix, the holders' phones, the bridge and responders.

    A base class: the subclass sets ``_major``, ``_edits``, ``_clock``,
    ``_open_url`` and ``message``, and provides ``current()`` and ``refresh()``.
    """

    _major: MajorSettings
    _edits: LocalEdits | None
    _clock: Callable[[], datetime]
    _open_url: Callable[[str], bool]
    message: QLabel

    def current(self) -> MajorSnapshot | None:
        raise NotImplementedError

    def refresh(self) -> None:
        raise NotImplementedError

    def _build_war_room(self) -> None:
        """The roles, role offer and war-room labels (laid out by the subclass)."""
        self._directory: Directory = empty_directory()
        self._offer: tuple[str, RoleCandidate] | None = None
        self._phones: dict[str, str] = {}
        # Numbers are shown as the matrix shows them: national form for the
        # viewer's own country, international otherwise; tel: links keep E.164.
        self.viewer_region = region_from_locale_name(QLocale.system().name())
        self.roles = QLabel(self)
        self.roles.setTextFormat(Qt.TextFormat.RichText)
        self.roles.setOpenExternalLinks(True)
        self.roles.setWordWrap(True)
        self.roles.setObjectName("major_roles")
        self.offer = QLabel(self)
        self.offer.setObjectName("major_role_offer")
        self.offer.setWordWrap(True)
        self.war_room = QLabel(self)
        self.war_room.setObjectName("major_war_room")
        self.war_room.setTextFormat(Qt.TextFormat.RichText)
        self.war_room.setOpenExternalLinks(True)
        self.war_room.setWordWrap(True)

    def _read_people(self, cache: Cache) -> None:
        """Re-read the contacts' phones and the escalation directory from the cache."""
        self._phones = {
            str(doc.get("name")): e164
            for doc in cache.reference("contacts")
            if (e164 := _e164(doc.get("primary_phone"))) is not None
        }
        self._directory = Directory.from_store(cache)

    def _show_war_room(self, snap: MajorSnapshot) -> None:
        self.roles.setText(self._roles_html(snap))
        self._show_offer(snap)
        self.war_room.setText(war_room_html(snap))

    def role_names(self) -> list[str]:
        """The standard roles and the site's extra roles ([major] extra_roles)."""
        return role_names(self._major.extra_roles)

    def _roles_html(self, snap: MajorSnapshot) -> str:
        names = self.role_names() + [r for r in snap.roles if r not in self.role_names()]
        parts = []
        for role in names:
            who = snap.roles.get(role)
            parts.append(
                f"{_esc(role)}: {self._person(who)}" if who else f"{_esc(role)}: <i>unassigned</i>"
            )
        # Two to a line: readable at a glance, and the draft keeps its room.
        lines = [" · ".join(parts[n : n + 2]) for n in range(0, len(parts), 2)]
        return "<b>Roles</b> — " + "<br>".join(lines)

    def candidates(self, role: str) -> list[RoleCandidate]:
        """Who to offer for ``role`` on the current incident (the escalation matrix first)."""
        snap = self.current()
        if snap is None:
            return []
        holder = snap.roles.get(role)
        return role_candidates(
            self._directory, snap.incident.service, self._clock(), exclude=holder
        )

    def _show_offer(self, snap: MajorSnapshot) -> None:
        names = self.role_names()
        missing = next((r for r in names if r not in snap.roles), None)
        self._offer = (
            next_role_offer(snap.roles, names, self.candidates(missing)) if missing else None
        )
        if self._offer is None and missing is not None:
            self.offer.setText(
                f"{missing} is unassigned and the escalation matrix has nobody on call to offer "
                "· Ctrl+Shift+R picks someone"
            )
        elif self._offer is None:
            self.offer.setText(
                "Every role is held · Ctrl+Shift+R hands one over · Ctrl+Shift+P calls a holder"
            )
        else:
            role, who = self._offer
            phone = f", {self._shown(who.phone)}" if who.phone else ""
            self.offer.setText(
                f"▶ {role}: offer {who.name} ({who.why}{phone}) — Ctrl+Shift+A accepts, "
                "Ctrl+Shift+R picks someone else"
            )
        self.offer.show()

    def _shown(self, e164: str) -> str:
        return format_phone(e164, self.viewer_region)

    def _person(self, name: str) -> str:
        phone = self._phones.get(name)
        if phone is None:
            return _esc(name)
        return f"{_esc(name)} <a href='{tel_uri(phone)}'>{_esc(self._shown(phone))}</a>"

    def _editable(self) -> MajorSnapshot | None:
        snap = self.current()
        if snap is None or self._edits is None:
            self.message.setText("No major incident is running, or this console is read-only.")
            return None
        return snap

    def accept_offer(self) -> None:
        """Ctrl+Shift+A: give the offered role to the offered on-call person."""
        snap = self._editable()
        if snap is None or self._edits is None:
            return
        if self._offer is None:
            self.message.setText(
                "Nothing is offered: every role is held (Ctrl+Shift+R hands over)."
            )
            return
        role, who = self._offer
        try:
            self._assign(snap, role, who.name, "")
        except (DomainError, ValueError) as exc:
            self.message.setText(f"Not assigned: {exc}")

    def _assign(self, snap: MajorSnapshot, role: str, person: str, reason: str) -> None:
        """Queue the assignment; a refusal is raised for the caller to show."""
        assert self._edits is not None
        self._edits.assign_role(snap.incident.id, role, person, reason=reason)
        self.message.setText(f"{role}: {person} (sent from the outbox).")
        self.refresh()

    def assign_role(self, role: str | None = None) -> QDialog | None:
        """Ctrl+Shift+R: choose a role and who holds it (on-call people first)."""
        from console.views.major_dialogs import RoleDialog

        snap = self._editable()
        if snap is None:
            return None
        names = self.role_names()
        first_open = next((r for r in names if r not in snap.roles), names[0])
        dialog = RoleDialog(
            names, snap.roles, self.candidates, role=role or first_open, parent=self
        )

        def submit() -> None:
            person = dialog.chosen_person()
            if person is None:
                raise ValueError("choose someone from the list")
            self._assign(snap, dialog.chosen_role(), person, dialog.reason.text())

        dialog.submit = submit
        dialog.setModal(True)
        dialog.show()
        return dialog

    def call_targets(self) -> list[tuple[str, str, str]]:
        """(role, person, tel: URI) for each role holder with a phone, the commander first."""
        snap = self.current()
        if snap is None:
            return []
        order = self.role_names() + [r for r in snap.roles if r not in self.role_names()]
        out = []
        for role in order:
            who = snap.roles.get(role)
            phone = self._phones.get(who) if who else None
            if who and phone:
                out.append((role, who, tel_uri(phone)))
        return out

    def call(self, index: int = 0) -> bool:
        """Dial the ``index``-th role holder (0: the commander, when they have a phone)."""
        targets = self.call_targets()
        if not 0 <= index < len(targets):
            self.message.setText("No role holder with a phone number to call.")
            return False
        role, who, uri = targets[index]
        if not self._open_url(uri):
            self.message.setText(f"No phone app answered {uri}; dial {who} ({role}) by hand.")
            return False
        self.message.setText(f"Calling {who} ({role}).")
        return True

    def call_menu(self) -> QMenu:
        """Ctrl+Shift+P: the role holders' phones, numbered; Enter calls the commander."""
        menu = QMenu(self)
        menu.setObjectName("majorCallMenu")
        targets = self.call_targets()
        for index, (role, who, uri) in enumerate(targets):
            shown = self._shown(uri.removeprefix("tel:"))
            action = menu.addAction(f"&{index + 1} {role}: {who} ({shown})")
            action.triggered.connect(lambda _checked=False, n=index: self.call(n))
        if not targets:
            menu.addAction("No role holder has a phone number").setEnabled(False)
        else:
            menu.setActiveAction(menu.actions()[0])
        return menu

    def show_call_menu(self) -> None:
        menu = self.call_menu()
        menu.popup(self.roles.mapToGlobal(self.roles.rect().bottomLeft()))
        if menu.actions():
            menu.setActiveAction(menu.actions()[0])

    def set_bridge(self) -> QDialog | None:
        """Ctrl+Shift+L: the bridge's conference URL and/or dial-in with PIN."""
        from console.views.major_dialogs import BridgeDialog

        snap = self._editable()
        if snap is None:
            return None
        dialog = BridgeDialog(snap.bridge, self)

        def submit() -> None:
            assert self._edits is not None
            self._edits.set_bridge(snap.incident.id, **dialog.values())
            self.message.setText("Bridge set (sent from the outbox).")
            self.refresh()

        dialog.submit = submit
        dialog.setModal(True)
        dialog.show()
        return dialog

    def record_responder(self) -> QDialog | None:
        """Ctrl+Shift+J: a responder joined or left the bridge."""
        from console.views.major_dialogs import ResponderDialog

        snap = self._editable()
        if snap is None:
            return None
        on_bridge = [n for n, (action, _at) in snap.responders.items() if action == "joined"]
        people = [c.name for c in self._directory.contacts_sorted()]
        dialog = ResponderDialog(people, on_bridge, self)

        def submit() -> None:
            assert self._edits is not None
            person, action = dialog.values()
            self._edits.change_responder(snap.incident.id, person, action)
            self.message.setText(f"{person} {action} the bridge (sent from the outbox).")
            self.refresh()

        dialog.submit = submit
        dialog.setModal(True)
        dialog.show()
        return dialog


def war_room_html(snap: MajorSnapshot) -> str:
    """The bridge (URL link, dial-in with PIN as a ``tel:`` link) and who is on it."""
    parts = []
    url = snap.bridge.get("url")
    if url:
        parts.append(f"<a href='{_esc(str(url))}'>{_esc(str(url))}</a>")
    tel = bridge_tel(snap.bridge)
    if tel:
        pin = snap.bridge.get("pin")
        shown = _esc(str(snap.bridge.get("dial_in"))) + (f" PIN {_esc(str(pin))}" if pin else "")
        parts.append(f"<a href='{_esc(tel)}'>{shown}</a>")
    bridge = " · ".join(parts) or "no bridge yet"
    on = [
        f"{_esc(n)} (since {at:%H:%M})" for n, (s, at) in snap.responders.items() if s == "joined"
    ]
    left = [f"{_esc(n)} (left {at:%H:%M})" for n, (s, at) in snap.responders.items() if s == "left"]
    people = ", ".join(on) or "nobody recorded"
    gone = f"; {', '.join(left)}" if left else ""
    return (
        f"<b>War room</b> — {bridge}<br><b>Responders</b>: {people}{gone} "
        "<i>(observers get updates from the Communications Lead)</i>"
    )


def _e164(value: object) -> str | None:
    """A contact's phone as E.164 (``+44 7400 123456`` → ``+447400123456``); None if unusable."""
    from console.domain.phones import is_e164, parse_phone

    if not isinstance(value, str) or not value.strip():
        return None
    if is_e164(value):
        return value
    try:
        return parse_phone(value)
    except ValueError:  # InvalidPhone: shown without a link
        return None
