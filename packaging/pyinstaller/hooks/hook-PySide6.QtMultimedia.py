# Replaces PyInstaller's hook for this PySide6 module: the same collection,
# minus the Qt plugins and translations listed in ../contents.py.
from qt_trim import trimmed_qt6_dependencies

hiddenimports, binaries, datas = trimmed_qt6_dependencies(__file__)
