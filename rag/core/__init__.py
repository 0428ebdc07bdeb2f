"""The ground floor: errors, the one settings object, the core types, atomic files, the
CPU's facts, and ``text`` (the one place text becomes words, stems, numbers and sentences).
Imports nothing of the project outside this package."""
