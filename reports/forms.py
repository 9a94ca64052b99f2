"""The filters every report page shares: a date range (a preset or custom dates) and a branch."""

import datetime as dt

from django import forms
from django.utils import timezone

from core.branches import for_viewer
from core.roles import Perm
from pos.people.models import Branch
from reports.selectors import Period

MAX_SPAN_DAYS = 366  # a year (a leap year's too); longer spans are split by the owner into years

PRESETS = [
    ("today", "Today"),
    ("yesterday", "Yesterday"),
    ("this_week", "This week"),
    ("this_month", "This month"),
    ("last_month", "Last month"),
    ("custom", "Custom dates"),
]


def preset_range(preset: str, today: dt.date) -> tuple[dt.date, dt.date]:
    if preset == "yesterday":
        day = today - dt.timedelta(days=1)
        return day, day
    if preset == "this_week":  # weeks start on Monday
        return today - dt.timedelta(days=today.weekday()), today
    if preset == "this_month":
        return today.replace(day=1), today
    if preset == "last_month":
        end = today.replace(day=1) - dt.timedelta(days=1)
        return end.replace(day=1), end
    return today, today


class ReportFilterForm(forms.Form):
    preset = forms.ChoiceField(choices=PRESETS, required=False, initial="today", label="Period")
    start = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))
    branch = forms.CharField(required=False, label="Branch")

    def __init__(self, data=None, *, user, **kwargs):
        super().__init__(data, **kwargs)
        self.user = user
        self.sees_all = user.has_perm(Perm.ALL_BRANCHES)
        self.branches = list(for_viewer(Branch.objects.filter(is_active=True).order_by("name"), user, field="pk"))

    def clean_branch(self):
        wanted = (self.cleaned_data.get("branch") or "").strip()
        if not wanted:
            return None
        # Unknown and not-yours get the same answer: a branch one may not see does not exist for them.
        found = next((b for b in self.branches if str(b.pk) == wanted), None)
        if found is None:
            raise forms.ValidationError("Unknown branch: pick one from the list.")
        return found

    def clean(self):
        data = super().clean()
        preset = data.get("preset") or ("custom" if data.get("start") or data.get("end") else "today")
        data["preset"] = preset
        today = timezone.localdate()
        if preset == "custom":
            start, end = data.get("start"), data.get("end")
            if "start" in self.errors or "end" in self.errors:
                return data
            if start is None and end is None:
                raise forms.ValidationError("Give the first and last day of the period.")
            start = start or end
            end = end or start
            if start > end:
                self.add_error("end", "The end date is before the start date.")
                return data
            if (end - start).days + 1 > MAX_SPAN_DAYS:
                self.add_error("end", f"A report covers at most {MAX_SPAN_DAYS} days: shorten the period.")
                return data
            data["start"], data["end"] = start, end
        else:
            data["start"], data["end"] = preset_range(preset, today)
        return data

    def period(self) -> Period:
        """The period a valid form asks for, limited to the branches the user may see."""
        branch = self.cleaned_data.get("branch")
        if branch is not None:
            branch_ids = (branch.pk,)
        elif self.sees_all:
            branch_ids = None
        else:
            branch_ids = (self.user.branch_id,)
        return Period(start=self.cleaned_data["start"], end=self.cleaned_data["end"], branch_ids=branch_ids)

    def branch_label(self) -> str:
        branch = self.cleaned_data.get("branch") if self.is_valid() else None
        if branch is not None:
            return branch.name
        return "All branches" if self.sees_all else self.user.branch.name

    def as_params(self) -> dict:
        """The filters as query parameters (links to CSV/PDF, the export job)."""
        data = self.cleaned_data
        params = {"preset": data["preset"], "start": data["start"].isoformat(), "end": data["end"].isoformat()}
        if data.get("branch") is not None:
            params["branch"] = str(data["branch"].pk)
        return params
