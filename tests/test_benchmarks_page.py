"""docs/benchmarks.md is generated: its notes are bench/notes.md verbatim (edit the notes,
then re-render with ``python -m bench.run_all --from-json DIR``), so the page and its
source cannot drift apart."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_page_ends_with_the_notes():
    page = (ROOT / "docs" / "benchmarks.md").read_text()
    notes = (ROOT / "bench" / "notes.md").read_text()
    assert notes.strip(), "bench/notes.md is empty"
    assert page.rstrip("\n").endswith(notes.rstrip("\n")), (
        "docs/benchmarks.md no longer ends with bench/notes.md: edit bench/notes.md and "
        "re-render the page, not the page by hand"
    )
