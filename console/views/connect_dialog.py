"""File ▸ Connect to backend…: the server's URL and your API token, tested before use.

*Test connection* asks the backend who the token belongs to (``/v1/me``, or
the RT equivalent) and says, in plain words, what worked or what to fix.
*Connect* tests again, keeps the token in the OS keyring, puts the URL first in
``backends`` (settings.toml, comments kept) and restarts the console, which
then syncs with it. The network work is the app's (``tester`` and
``connector``): this module holds no I/O.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

Tester = Callable[[str, str], str]
"""``(url, token) -> what worked`` ("Connected as desk-1 (dispatcher)"); raises ConnectProblem."""
Connector = Callable[[str, str], None]
"""``(url, token)``: keep the token and the URL, then sync; raises ConnectProblem."""


class ConnectProblem(Exception):
    """What went wrong, in operator words (the dialog shows it as it is)."""


class ConnectDialog(QDialog):
    """URL, token, *Test connection*, *Connect* (see the module docstring)."""

    def __init__(
        self,
        tester: Tester,
        connector: Connector,
        *,
        url: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("connectDialog")
        self.setWindowTitle("Connect to backend")
        self._tester = tester
        self._connector = connector
        self.url = QLineEdit(url, self)
        self.url.setPlaceholderText("https://noc.example.com  or  rt+https://rt.example.com")
        self.token = QLineEdit(self)
        self.token.setEchoMode(QLineEdit.EchoMode.Password)
        self.token.setPlaceholderText("paste the token from your administrator")
        form = QFormLayout()
        form.addRow("Backend &URL:", self.url)
        form.addRow("API &token:", self.token)
        hint = QLabel(
            "The token is kept in your system keyring, never in a file. An administrator "
            "makes one with `noc-console token create --role dispatcher --name <you>`.",
            self,
        )
        hint.setWordWrap(True)
        hint.setObjectName("dialogHint")
        self.status = QLabel(self)
        self.status.setObjectName("connectStatus")
        self.status.setWordWrap(True)
        self.status.hide()
        self.test_button = QPushButton("Test &connection", self)
        self.test_button.clicked.connect(self.test)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel, self)
        self.connect_button = buttons.addButton(
            "Connect and &sync", QDialogButtonBox.ButtonRole.AcceptRole
        )
        buttons.addButton(self.test_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.accepted.connect(self.connect_and_sync)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(hint)
        layout.addWidget(self.status)
        layout.addWidget(buttons)
        self.setMinimumWidth(self.fontMetrics().averageCharWidth() * 70)

    def _fields(self) -> tuple[str, str] | None:
        url, token = self.url.text().strip(), self.token.text().strip()
        if not url:
            self._say("Type the backend's URL first.", ok=False)
            self.url.setFocus()
            return None
        if not token:
            self._say("Paste your API token first.", ok=False)
            self.token.setFocus()
            return None
        return url, token

    def test(self) -> bool:
        """Try the URL and token now; say what worked or what to fix."""
        fields = self._fields()
        if fields is None:
            return False
        try:
            worked = self._tester(*fields)
        except ConnectProblem as exc:
            self._say(str(exc), ok=False)
            return False
        self._say(f"✔ {worked}", ok=True)
        return True

    def connect_and_sync(self) -> None:
        """Test, then keep the token and the URL and sync; stays open on any problem."""
        if not self.test():
            return
        fields = self._fields()
        assert fields is not None
        try:
            self._connector(*fields)
        except ConnectProblem as exc:
            self._say(str(exc), ok=False)
            return
        self.accept()

    def _say(self, text: str, *, ok: bool) -> None:
        self.status.setText(text)
        self.status.setProperty("ok", ok)
        self.status.setObjectName("connectStatus" if ok else "dialogError")
        self.status.style().unpolish(self.status)
        self.status.style().polish(self.status)
        self.status.show()
