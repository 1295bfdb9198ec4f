"""Advisory bodies: the safe Markdown subset, sanitized whatever the agency sends."""

from __future__ import annotations

from shared.richtext import summary, to_html


def test_the_subset_renders() -> None:
    html = to_html(
        "# Charge safely\n\n**Never** charge *unattended*.\n\n- one\n- two\n\n[More](https://a.example)"
    )
    assert "<h2>Charge safely</h2>" in html
    assert "<strong>Never</strong>" in html and "<em>unattended</em>" in html
    assert "<li>one</li>" in html
    assert '<a href="https://a.example" rel="noopener noreferrer nofollow">More</a>' in html


def test_html_scripts_and_dangerous_links_never_survive() -> None:
    html = to_html(
        '<script>alert(1)</script>\n\n<img src=x onerror="alert(1)">\n\n'
        "[click](javascript:alert(1)) [data](data:text/html;base64,PHNjcmlwdD4=)\n\n"
        "![tracker](https://evil.example/pixel.png)"
    )
    # Tags the agency typed show as text; no element or attribute of theirs survives.
    assert "<script" not in html and "<img" not in html
    assert "&lt;img src=x" in html
    assert 'href="javascript' not in html and 'href="data' not in html
    assert "&lt;script&gt;" in html


def test_a_summary_is_plain_text_of_the_first_paragraph() -> None:
    assert (
        summary("**Never** charge <b>it</b> unattended.\n\nMore.")
        == "Never charge <b>it</b> unattended."
    )
    assert summary("word " * 100, limit=20).endswith("…")
    assert len(summary("word " * 100, limit=20)) == 20
