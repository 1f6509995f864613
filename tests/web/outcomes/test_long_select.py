"""The dashboard's LongSelect renders what Django's Select renders (same options, same selection,
same attributes), in one pass (forms.LongSelect)."""

from __future__ import annotations

from html.parser import HTMLParser

from django import forms

from interpersonal.web.outcomes.forms import FilterForm, LongSelect


class _Options(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.select: dict[str, str | None] = {}
        self.options: list[tuple[str | None, bool, str]] = []
        self._open: list[tuple[str | None, bool]] = []

    def handle_starttag(self, tag, attrs):
        if tag == "select":
            self.select = dict(attrs)
        elif tag == "option":
            a = dict(attrs)
            self._open.append((a.get("value"), "selected" in a))

    def handle_data(self, data):
        if self._open:
            value, selected = self._open.pop()
            self.options.append((value, selected, data))


def _parsed(html: str) -> _Options:
    parser = _Options()
    parser.feed(html)
    return parser


def test_long_select_renders_the_options_and_choice_as_select_does():
    therapists = [(f"T{i}", f"Name <{i}> & co (T{i})") for i in range(1, 40)]
    form = FilterForm({"therapist": "T7"}, providers=["North"], therapists=therapists, named=True)
    assert form.is_valid()
    field = form.fields["therapist"]
    assert isinstance(field.widget, LongSelect)
    ours = _parsed(str(form["therapist"]))

    field.widget = forms.Select(choices=field.choices)
    django = _parsed(str(form["therapist"]))

    assert ours.options == django.options
    assert ours.select == django.select
    assert [o for o in ours.options if o[1]] == [("T7", True, "Name <7> & co (T7)")]
